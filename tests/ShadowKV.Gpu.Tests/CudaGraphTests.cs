using System.Linq;
using ShadowKV.Gpu.Tests.Support;
using ShadowKV.Runtime.Cuda;

namespace ShadowKV.Gpu.Tests;

public sealed class CudaGraphTests
{
    [GpuFact]
    public void A_captured_launch_replays_with_its_captured_arguments()
    {
        CudaDevice device = TestGpu.Device;
        const int n = 10_000;
        float[] x = Enumerable.Range(0, n).Select(i => (float)(i % 17)).ToArray();
        using var arena = DeviceArena.Create(device, 2L * (n * sizeof(float) + DeviceArena.Alignment), "graph");
        using var stream = CudaStream.Create(device, "compute");
        using var args = new KernelArgs();
        DeviceBuffer dx = arena.Allocate(n * sizeof(float)), dy = arena.Allocate(n * sizeof(float));
        var launcher = new Launcher(device, synchronizeEachLaunch: true); // must not synchronise while capturing
        stream.CopyToDevice<float>(dx, x);
        stream.Fill(dy, 0);
        stream.Synchronize();

        using CudaGraph graph = CudaGraph.Capture(
            stream,
            s => launcher.Launch(SmokeModule.Kernel("accumulate"), LaunchConfig.Linear(n), s, args.Clear().Add(dx).Add(dy).Add(n)),
            "accumulate");
        args.Clear().Add(0).Add(0); // the graph keeps the values captured, not this buffer
        for (int replay = 0; replay < 3; replay++)
        {
            graph.Launch(stream);
        }

        var y = new float[n];
        stream.CopyToHost<float>(y, dy);
        stream.Synchronize();

        // Capturing does not execute: three replays add x three times (small integers: exact in fp32).
        Assert.Equal(x.Select(v => 3 * v), y);
    }

    [GpuFact]
    public void A_failure_inside_capture_leaves_the_stream_usable()
    {
        using var stream = CudaStream.Create(TestGpu.Device, "compute");

        Assert.Throws<System.InvalidOperationException>(() =>
            CudaGraph.Capture(stream, _ => throw new System.InvalidOperationException("planned"), "failing"));

        Assert.False(stream.IsCapturing);
        stream.Synchronize(); // would fail if the stream were still capturing
    }
}
