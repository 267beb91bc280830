using System;
using ShadowKV.Runtime.Interop;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;

namespace ShadowKV.Runtime.Cuda;

/// <summary>
/// One device allocation that every buffer of a plan lives in, addressed by byte offset. One allocation keeps
/// addresses stable for CUDA graphs and makes the footprint a single number that admission control can check.
/// Offsets are 256-byte aligned: cudaMalloc's own guarantee, which cuBLASLt's heuristics assume by default
/// (CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_*_BYTES = 256) and which covers every vector width a kernel loads.
/// </summary>
public sealed class DeviceArena : IDisposable
{
    public const int Alignment = 256;

    private readonly CudaDevice device;
    private ulong basePointer;
    private long bumpOffset;

    private DeviceArena(CudaDevice device, ulong basePointer, long sizeBytes, string name)
    {
        this.device = device;
        this.basePointer = basePointer;
        SizeBytes = sizeBytes;
        Name = name;
    }

    public string Name { get; }

    public long SizeBytes { get; }

    /// <summary>Bytes handed out by <see cref="Allocate"/> so far.</summary>
    public long AllocatedBytes => bumpOffset;

    /// <summary>The whole arena as one buffer.</summary>
    public DeviceBuffer Buffer => new(BasePointer, SizeBytes);

    public ulong BasePointer => basePointer != 0 ? basePointer : throw new ObjectDisposedException(Name);

    /// <summary>Allocates <paramref name="sizeBytes"/> (rounded up to the alignment). Check admission first.</summary>
    public static DeviceArena Create(CudaDevice device, long sizeBytes, string name)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sizeBytes);
        device.MakeCurrent();
        long rounded = AlignUp(sizeBytes);
        CudaException.ThrowIfFailed(CudaDriver.cuMemAlloc(out ulong pointer, (nuint)rounded), $"arena '{name}', {rounded} bytes");
        return new DeviceArena(device, pointer, rounded, name);
    }

    public static long AlignUp(long bytes) => (bytes + Alignment - 1) / Alignment * Alignment;

    /// <summary>The buffer at a planned offset (must be aligned; the plan computed it).</summary>
    public DeviceBuffer Slice(long offset, long bytes)
    {
        if (offset % Alignment != 0)
        {
            throw new ArgumentException($"Offset {offset} in arena '{Name}' is not {Alignment}-byte aligned.", nameof(offset));
        }

        if (offset < 0 || bytes < 0 || offset > SizeBytes - bytes)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"[{offset}, {offset + bytes}) is outside arena '{Name}' of {SizeBytes} bytes.");
        }

        return new DeviceBuffer(BasePointer + (ulong)offset, bytes);
    }

    /// <summary>Bump allocation for buffers without a planned offset (workspaces, tests).</summary>
    public DeviceBuffer Allocate(long bytes, string what = "buffer")
    {
        long size = AlignUp(Math.Max(bytes, 1));
        if (size > SizeBytes - bumpOffset)
        {
            throw new InsufficientMemoryException(
                $"Arena '{Name}' has {SizeBytes - bumpOffset} of {SizeBytes} bytes left; {what} needs {size}.");
        }

        var buffer = new DeviceBuffer(BasePointer + (ulong)bumpOffset, bytes);
        bumpOffset += size;
        return buffer;
    }

    /// <summary>Forgets every bump allocation (planned slices are unaffected).</summary>
    public void Reset() => bumpOffset = 0;

    public void Dispose()
    {
        if (basePointer == 0)
        {
            return;
        }

        device.MakeCurrent();
        CudaDriver.cuMemFree(basePointer);
        basePointer = 0;
    }
}
