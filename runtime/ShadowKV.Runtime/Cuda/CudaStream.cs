using System;
using ShadowKV.Runtime.Interop;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;

namespace ShadowKV.Runtime.Cuda;

/// <summary>
/// A named non-blocking stream (never synchronises with the legacy default stream, which nothing here uses).
/// Copies and fills are enqueued; nothing waits unless <see cref="Synchronize"/> is called.
/// </summary>
public sealed unsafe class CudaStream : IDisposable
{
    private nint handle;

    private CudaStream(CudaDevice device, nint handle, string name)
    {
        Device = device;
        this.handle = handle;
        Name = name;
    }

    public CudaDevice Device { get; }

    public string Name { get; }

    internal nint Handle => handle != 0 ? handle : throw new ObjectDisposedException($"stream '{Name}'");

    /// <summary>Set by <see cref="CudaGraph.Capture"/> while this stream records into a graph.</summary>
    public bool IsCapturing { get; internal set; }

    public static CudaStream Create(CudaDevice device, string name)
    {
        device.MakeCurrent();
        CudaException.ThrowIfFailed(CudaDriver.cuStreamCreate(out nint stream, CuFlags.StreamNonBlocking), $"stream '{name}'");
        return new CudaStream(device, stream, name);
    }

    // ---- copies ---------------------------------------------------------------------------------------------------
    // From pinned memory these are asynchronous. From pageable (managed) memory the driver stages the data before
    // returning (host→device) or returns only after the copy (device→host), so a span pinned for the call is safe;
    // such copies cannot be captured into a CUDA graph.

    public void CopyToDevice<T>(DeviceBuffer destination, ReadOnlySpan<T> source)
        where T : unmanaged
    {
        long bytes = (long)source.Length * sizeof(T);
        destination.RequireBytes(bytes, nameof(destination));
        Device.MakeCurrent();
        fixed (T* src = source)
        {
            CudaException.ThrowIfFailed(CudaDriver.cuMemcpyHtoDAsync(destination.Pointer, src, (nuint)bytes, Handle), Name);
        }
    }

    public void CopyToHost<T>(Span<T> destination, DeviceBuffer source)
        where T : unmanaged
    {
        long bytes = (long)destination.Length * sizeof(T);
        source.RequireBytes(bytes, nameof(source));
        Device.MakeCurrent();
        fixed (T* dst = destination)
        {
            CudaException.ThrowIfFailed(CudaDriver.cuMemcpyDtoHAsync(dst, source.Pointer, (nuint)bytes, Handle), Name);
        }
    }

    /// <summary>Host→device from pinned memory (e.g. a <see cref="PinnedHostPool"/> window): fully asynchronous.</summary>
    public void CopyToDevice(DeviceBuffer destination, nint pinnedSource, long bytes)
    {
        destination.RequireBytes(bytes, nameof(destination));
        Device.MakeCurrent();
        CudaException.ThrowIfFailed(CudaDriver.cuMemcpyHtoDAsync(destination.Pointer, (void*)pinnedSource, (nuint)bytes, Handle), Name);
    }

    /// <summary>Device→host into pinned memory: fully asynchronous; read it after an event or a synchronize.</summary>
    public void CopyToHost(nint pinnedDestination, DeviceBuffer source, long bytes)
    {
        source.RequireBytes(bytes, nameof(source));
        Device.MakeCurrent();
        CudaException.ThrowIfFailed(CudaDriver.cuMemcpyDtoHAsync((void*)pinnedDestination, source.Pointer, (nuint)bytes, Handle), Name);
    }

    public void CopyDeviceToDevice(DeviceBuffer destination, DeviceBuffer source, long bytes)
    {
        destination.RequireBytes(bytes, nameof(destination));
        source.RequireBytes(bytes, nameof(source));
        Device.MakeCurrent();
        CudaException.ThrowIfFailed(CudaDriver.cuMemcpyDtoDAsync(destination.Pointer, source.Pointer, (nuint)bytes, Handle), Name);
    }

    public void Fill(DeviceBuffer destination, byte value)
    {
        Device.MakeCurrent();
        CudaException.ThrowIfFailed(CudaDriver.cuMemsetD8Async(destination.Pointer, value, (nuint)destination.Bytes, Handle), Name);
    }

    // ---- ordering -------------------------------------------------------------------------------------------------

    /// <summary>Records <paramref name="cudaEvent"/> after the work enqueued so far.</summary>
    public void Record(CudaEvent cudaEvent)
    {
        Device.MakeCurrent();
        CudaException.ThrowIfFailed(CudaDriver.cuEventRecord(cudaEvent.Handle, Handle), $"{cudaEvent.Name} on {Name}");
    }

    /// <summary>Makes later work on this stream wait for <paramref name="cudaEvent"/> (a cross-stream edge).</summary>
    public void Wait(CudaEvent cudaEvent)
    {
        Device.MakeCurrent();
        CudaException.ThrowIfFailed(CudaDriver.cuStreamWaitEvent(Handle, cudaEvent.Handle, CuFlags.StreamWaitEventDefault), $"{Name} waits for {cudaEvent.Name}");
    }

    /// <summary>Blocks the calling thread until the stream's work is done; reports asynchronous kernel errors.</summary>
    public void Synchronize()
    {
        Device.MakeCurrent();
        CudaException.ThrowIfFailed(CudaDriver.cuStreamSynchronize(Handle), $"stream '{Name}'");
    }

    public override string ToString() => $"stream '{Name}'";

    public void Dispose()
    {
        if (handle == 0)
        {
            return;
        }

        Device.MakeCurrent();
        CudaDriver.cuStreamDestroy(handle);
        handle = 0;
    }
}
