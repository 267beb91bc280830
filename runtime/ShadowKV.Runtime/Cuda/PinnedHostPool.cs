using System;
using ShadowKV.Runtime.Interop;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;

namespace ShadowKV.Runtime.Cuda;

/// <summary>
/// One block of page-locked host memory (cuMemHostAlloc with PORTABLE | DEVICEMAP) for offloaded values.
/// PORTABLE: pinned for every context. DEVICEMAP: kernels can read it in place through
/// <see cref="DevicePointer"/> (zero-copy gathers of scattered chunks, DEVICE.md: ≈45 GB/s for 2 KiB chunks), and
/// copies from it are truly asynchronous.
/// </summary>
public sealed unsafe class PinnedHostPool : IDisposable
{
    private readonly CudaDevice device;
    private nint hostPointer;

    private PinnedHostPool(CudaDevice device, nint hostPointer, ulong devicePointer, long sizeBytes, string name)
    {
        this.device = device;
        this.hostPointer = hostPointer;
        DevicePointer = devicePointer;
        SizeBytes = sizeBytes;
        Name = name;
    }

    public string Name { get; }

    public long SizeBytes { get; }

    public nint HostPointer => hostPointer != 0 ? hostPointer : throw new ObjectDisposedException(Name);

    /// <summary>The same memory as seen by kernels (with unified addressing it equals the host address).</summary>
    public ulong DevicePointer { get; }

    /// <summary>The pool as a device buffer (for kernels and copies).</summary>
    public DeviceBuffer DeviceBuffer => new(DevicePointer, SizeBytes);

    public static PinnedHostPool Create(CudaDevice device, long sizeBytes, string name)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sizeBytes);
        if (!device.CanMapHostMemory)
        {
            throw new NotSupportedException($"{device.Name} cannot map host memory; a pinned pool needs CU_DEVICE_ATTRIBUTE_CAN_MAP_HOST_MEMORY.");
        }

        device.MakeCurrent();
        CudaException.ThrowIfFailed(
            CudaDriver.cuMemHostAlloc(out nint host, (nuint)sizeBytes, CuFlags.MemHostAllocPortable | CuFlags.MemHostAllocDeviceMap),
            $"pinned pool '{name}', {sizeBytes} bytes");
        CuResult mapped = CudaDriver.cuMemHostGetDevicePointer(out ulong devicePointer, host, 0);
        if (mapped != CuResult.Success)
        {
            CudaDriver.cuMemFreeHost(host);
            CudaException.ThrowIfFailed(mapped, $"pinned pool '{name}'");
        }

        return new PinnedHostPool(device, host, devicePointer, sizeBytes, name);
    }

    /// <summary>Host view of <paramref name="count"/> elements at <paramref name="byteOffset"/> (the pool itself may
    /// exceed a span's 2 GiB limit, so views are windows).</summary>
    public Span<T> AsSpan<T>(long byteOffset, int count)
        where T : unmanaged
    {
        long bytes = (long)count * sizeof(T);
        if (byteOffset < 0 || count < 0 || byteOffset > SizeBytes - bytes)
        {
            throw new ArgumentOutOfRangeException(nameof(byteOffset), $"[{byteOffset}, {byteOffset + bytes}) is outside pinned pool '{Name}' of {SizeBytes} bytes.");
        }

        return new Span<T>((byte*)HostPointer + byteOffset, count);
    }

    /// <summary>Device-side address of a byte range of the pool.</summary>
    public DeviceBuffer Slice(long byteOffset, long bytes) => DeviceBuffer.Slice(byteOffset, bytes);

    public void Dispose()
    {
        if (hostPointer == 0)
        {
            return;
        }

        device.MakeCurrent();
        CudaDriver.cuMemFreeHost(hostPointer);
        hostPointer = 0;
    }
}
