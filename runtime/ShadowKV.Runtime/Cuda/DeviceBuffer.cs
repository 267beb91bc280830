using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;

namespace ShadowKV.Runtime.Cuda;

/// <summary>A byte range of device memory: an address and a length. Owns nothing; slices of a <see cref="DeviceArena"/>.</summary>
public readonly record struct DeviceBuffer(ulong Pointer, long Bytes)
{
    public bool IsNull => Pointer == 0;

    public DeviceBuffer Slice(long offset, long bytes)
    {
        if (offset < 0 || bytes < 0 || offset > Bytes - bytes)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"Slice [{offset}, {offset + bytes}) is outside the {Bytes}-byte buffer.");
        }

        return new DeviceBuffer(Pointer + (ulong)offset, bytes);
    }

    /// <summary>Throws unless the buffer holds at least <paramref name="bytes"/> bytes; names the buffer in the message.</summary>
    public void RequireBytes(long bytes, string name)
    {
        if (Bytes < bytes)
        {
            throw new ArgumentException($"{name} holds {Bytes} bytes but {bytes} are needed.", name);
        }
    }

    public override string ToString() => $"0x{Pointer:x}+{Bytes}";
}
