using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;

namespace ShadowKV.Runtime.Cuda;

/// <summary>
/// Kernel arguments in the form cuLaunchKernel takes: an array of pointers, each to one argument's value. Values
/// live in native memory owned by this object, so one instance is reused launch after launch without allocating
/// (<c>args.Clear().Add(q).Add(k).Add(n)</c>). The driver copies the values at launch (and at graph capture),
/// so clearing right after a launch is safe.
/// </summary>
public sealed unsafe class KernelArgs : IDisposable
{
    // 4 KiB is the classic kernel parameter limit (larger needs CUDA 12.1+ and Volta+); 16-byte slots keep every
    // scalar, pointer and small vector type naturally aligned.
    private const int ValueBytes = 4096;
    private const int SlotAlignment = 16;
    private const int MaxArguments = 256;

    private byte* values;
    private void** pointers;
    private int used;

    public KernelArgs()
    {
        values = (byte*)NativeMemory.AlignedAlloc(ValueBytes, SlotAlignment);
        pointers = (void**)NativeMemory.Alloc(MaxArguments, (nuint)sizeof(void*));
    }

    public int Count { get; private set; }

    internal void** Pointers => pointers != null ? pointers : throw new ObjectDisposedException(nameof(KernelArgs));

    public KernelArgs Clear()
    {
        Count = 0;
        used = 0;
        return this;
    }

    /// <summary>Appends one argument. <typeparamref name="T"/> must match the kernel parameter's type exactly
    /// (int vs long, float vs half): the driver copies <c>sizeof(T)</c> bytes per the kernel's signature.</summary>
    public KernelArgs Add<T>(T value)
        where T : unmanaged
    {
        int offset = (used + SlotAlignment - 1) / SlotAlignment * SlotAlignment;
        if (Count == MaxArguments || offset + sizeof(T) > ValueBytes)
        {
            throw new InvalidOperationException($"Kernel arguments exceed {MaxArguments} values or {ValueBytes} bytes.");
        }

        *(T*)(values + offset) = value;
        pointers[Count++] = values + offset;
        used = offset + sizeof(T);
        return this;
    }

    /// <summary>Appends a device pointer (a <c>T*</c> parameter).</summary>
    public KernelArgs Add(DeviceBuffer buffer) => Add(buffer.Pointer);

    public void Dispose()
    {
        NativeMemory.AlignedFree(values);
        NativeMemory.Free(pointers);
        values = null;
        pointers = null;
    }
}
