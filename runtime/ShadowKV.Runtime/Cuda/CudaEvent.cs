using System;
using ShadowKV.Runtime.Interop;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;

namespace ShadowKV.Runtime.Cuda;

/// <summary>A CUDA event: a cross-stream edge, or (with timing) a GPU timestamp.</summary>
public sealed class CudaEvent : IDisposable
{
    private static bool elapsedV2Missing;

    private readonly CudaDevice device;
    private nint handle;

    private CudaEvent(CudaDevice device, nint handle, string name, bool timing)
    {
        this.device = device;
        this.handle = handle;
        Name = name;
        HasTiming = timing;
    }

    public string Name { get; }

    public bool HasTiming { get; }

    internal nint Handle => handle != 0 ? handle : throw new ObjectDisposedException($"event '{Name}'");

    /// <summary>Creates an event. Edges between streams should not time (CU_EVENT_DISABLE_TIMING is cheaper).</summary>
    public static CudaEvent Create(CudaDevice device, string name, bool timing = false)
    {
        device.MakeCurrent();
        CudaException.ThrowIfFailed(
            CudaDriver.cuEventCreate(out nint cudaEvent, timing ? CuFlags.EventDefault : CuFlags.EventDisableTiming),
            $"event '{name}'");
        return new CudaEvent(device, cudaEvent, name, timing);
    }

    public void Synchronize()
    {
        device.MakeCurrent();
        CudaException.ThrowIfFailed(CudaDriver.cuEventSynchronize(Handle), $"event '{Name}'");
    }

    /// <summary>Milliseconds between two recorded timing events (both must have completed).</summary>
    public static float ElapsedMilliseconds(CudaEvent start, CudaEvent end)
    {
        if (!start.HasTiming || !end.HasTiming)
        {
            throw new InvalidOperationException($"Events '{start.Name}' and '{end.Name}' must be created with timing: true.");
        }

        start.device.MakeCurrent();
        if (!elapsedV2Missing)
        {
            try
            {
                CudaException.ThrowIfFailed(CudaDriver.cuEventElapsedTime(out float ms, start.Handle, end.Handle), $"{start.Name} → {end.Name}");
                return ms;
            }
            catch (EntryPointNotFoundException)
            {
                elapsedV2Missing = true; // driver older than CUDA 12.8
            }
        }

        CudaException.ThrowIfFailed(CudaDriver.cuEventElapsedTimeV1(out float v1, start.Handle, end.Handle), $"{start.Name} → {end.Name}");
        return v1;
    }

    public void Dispose()
    {
        if (handle == 0)
        {
            return;
        }

        device.MakeCurrent();
        CudaDriver.cuEventDestroy(handle);
        handle = 0;
    }
}
