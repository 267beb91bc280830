using System;
using ShadowKV.Runtime.Interop;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;

namespace ShadowKV.Runtime.Cuda;

/// <summary>
/// A captured, instantiated CUDA graph: the work one callback enqueues on a stream, replayed with one launch.
/// Decode steps are captured once per (batch, budget) shape. Captured launches keep their argument values and
/// buffer addresses, which is why every buffer lives at a fixed arena offset.
/// </summary>
public sealed class CudaGraph : IDisposable
{
    private readonly CudaDevice device;
    private nint exec;

    private CudaGraph(CudaDevice device, nint exec, string name)
    {
        this.device = device;
        this.exec = exec;
        Name = name;
    }

    public string Name { get; }

    /// <summary>
    /// Captures what <paramref name="enqueue"/> puts on <paramref name="stream"/> (and on streams it joins through
    /// events). Thread-local capture mode: only this thread is barred from capture-unsafe calls (allocation,
    /// synchronisation), so other threads keep working; such a call made here fails the capture with its name.
    /// </summary>
    public static CudaGraph Capture(CudaStream stream, Action<CudaStream> enqueue, string name)
    {
        CudaDevice device = stream.Device;
        device.MakeCurrent();
        CudaException.ThrowIfFailed(CudaDriver.cuStreamBeginCapture(stream.Handle, CuStreamCaptureMode.ThreadLocal), $"graph '{name}'");
        stream.IsCapturing = true;
        nint graph;
        try
        {
            enqueue(stream);
        }
        catch
        {
            // End the capture so the stream is usable again; the partial graph is discarded.
            if (CudaDriver.cuStreamEndCapture(stream.Handle, out nint partial) == CuResult.Success && partial != 0)
            {
                CudaDriver.cuGraphDestroy(partial);
            }

            throw;
        }
        finally
        {
            stream.IsCapturing = false;
        }

        CudaException.ThrowIfFailed(CudaDriver.cuStreamEndCapture(stream.Handle, out graph), $"graph '{name}'");
        try
        {
            CudaException.ThrowIfFailed(CudaDriver.cuGraphInstantiateWithFlags(out nint exec, graph, CuFlags.GraphInstantiateNone), $"graph '{name}'");
            return new CudaGraph(device, exec, name);
        }
        finally
        {
            // The executable graph is independent of the template it was instantiated from.
            CudaDriver.cuGraphDestroy(graph);
        }
    }

    /// <summary>Enqueues one replay on <paramref name="stream"/>.</summary>
    public void Launch(CudaStream stream)
    {
        ObjectDisposedException.ThrowIf(exec == 0, this);
        device.MakeCurrent();
        CudaException.ThrowIfFailed(CudaDriver.cuGraphLaunch(exec, stream.Handle), $"graph '{Name}' on {stream}");
    }

    public void Dispose()
    {
        if (exec == 0)
        {
            return;
        }

        device.MakeCurrent();
        CudaDriver.cuGraphExecDestroy(exec);
        exec = 0;
    }
}
