using System;
using System.Linq;
using ShadowKV.Gpu.Tests.Support;
using ShadowKV.Runtime.Cuda;

namespace ShadowKV.Gpu.Tests;

public sealed class KernelLaunchTests(ITestOutputHelper output)
{
    [GpuFact]
    public void Nvrtc_compiled_vector_add_runs_and_matches_the_cpu()
    {
        CudaDevice device = TestGpu.Device;
        const int n = 100_003; // not a multiple of the block size: the bounds check matters
        float[] x = Enumerable.Range(0, n).Select(i => i * 0.25f).ToArray();
        float[] y = Enumerable.Range(0, n).Select(i => 1f - i).ToArray();
        using var arena = DeviceArena.Create(device, 3L * n * sizeof(float) + 3 * DeviceArena.Alignment, "vector_add");
        using var stream = CudaStream.Create(device, "compute");
        using var args = new KernelArgs();
        DeviceBuffer dx = arena.Allocate(n * sizeof(float)), dy = arena.Allocate(n * sizeof(float)), dz = arena.Allocate(n * sizeof(float));
        var launcher = new Launcher(device);

        stream.CopyToDevice<float>(dx, x);
        stream.CopyToDevice<float>(dy, y);
        launcher.Launch(SmokeModule.Kernel("vector_add"), LaunchConfig.Linear(n), stream, args.Add(dx).Add(dy).Add(dz).Add(n));
        var z = new float[n];
        stream.CopyToHost<float>(z, dz);
        stream.Synchronize();

        output.WriteLine($"compiled for {SmokeModule.Compiled.Arch} in {SmokeModule.Compiled.Elapsed.TotalMilliseconds:F0} ms");
        Assert.Equal(x.Zip(y, (a, b) => a + b), z); // one fp32 add each: exact
        Assert.Equal(1, launcher.LaunchCount);
    }

    [GpuFact]
    public void A_template_instantiation_is_launched_by_its_name_expression()
    {
        CudaDevice device = TestGpu.Device;
        ushort[] q = Bf16.Random(128 * 4, seed: 7);
        using var arena = DeviceArena.Create(device, 4096, "head_sum");
        using var stream = CudaStream.Create(device, "compute");
        using var args = new KernelArgs();
        DeviceBuffer dq = arena.Allocate(q.Length * sizeof(ushort)), dout = arena.Allocate(sizeof(float));

        stream.CopyToDevice<ushort>(dq, q);
        stream.Fill(dout, 0);
        CudaKernel kernel = SmokeModule.Kernel("head_sum<128,4>");
        new Launcher(device).Launch(kernel, new LaunchConfig(1, 64), stream, args.Add(dq).Add(dout));
        var sum = new float[1];
        stream.CopyToHost<float>(sum, dout);
        stream.Synchronize();

        Assert.StartsWith("_Z", kernel.LoweredName, StringComparison.Ordinal);
        // 512 values in [-1, 1) summed in fp32 in a different order than here: error ≤ 512 · 2⁻²⁴ · 512 ≈ 0.016.
        Assert.Equal(q.Sum(v => (double)Bf16.ToFloat(v)), sum[0], tolerance: 0.02);
    }

    [GpuFact]
    public void Shared_memory_above_48_KiB_is_opted_into_by_the_launcher()
    {
        CudaDevice device = TestGpu.Device;
        const int n = 100 * 1024 / sizeof(float); // 100 KiB of dynamic shared memory
        float[] x = Enumerable.Range(0, n).Select(i => (float)i).ToArray();
        using var arena = DeviceArena.Create(device, 2L * n * sizeof(float), "reverse");
        using var stream = CudaStream.Create(device, "compute");
        using var args = new KernelArgs();
        DeviceBuffer dx = arena.Allocate(n * sizeof(float)), dy = arena.Allocate(n * sizeof(float));

        stream.CopyToDevice<float>(dx, x);
        CudaKernel kernel = SmokeModule.Kernel("reverse_through_shared");
        new Launcher(device).Launch(kernel, new LaunchConfig(1, 1024, n * sizeof(float)), stream, args.Add(dx).Add(dy).Add(n));
        var y = new float[n];
        stream.CopyToHost<float>(y, dy);
        stream.Synchronize();

        Assert.Equal(x.Reverse(), y);
        Assert.Equal(n * sizeof(float), kernel.MaxDynamicSharedBytes);
    }

    [GpuFact]
    public void An_invalid_configuration_is_refused_naming_the_kernel()
    {
        using var stream = CudaStream.Create(TestGpu.Device, "compute");
        using var args = new KernelArgs();

        var error = Assert.Throws<ArgumentException>(() =>
            new Launcher(TestGpu.Device).Launch(SmokeModule.Kernel("vector_add"), new LaunchConfig(1, 2048), stream, args));

        Assert.Contains("vector_add", error.Message, StringComparison.Ordinal);
        Assert.Contains("1024 threads", error.Message, StringComparison.Ordinal);
    }

    [GpuFact]
    public void Events_order_streams_and_time_work()
    {
        CudaDevice device = TestGpu.Device;
        const int n = 1 << 20;
        using var arena = DeviceArena.Create(device, 3L * n * sizeof(float), "events");
        using var compute = CudaStream.Create(device, "compute");
        using var fetch = CudaStream.Create(device, "fetch");
        using var ready = CudaEvent.Create(device, "fetched");
        using var start = CudaEvent.Create(device, "start", timing: true);
        using var end = CudaEvent.Create(device, "end", timing: true);
        using var args = new KernelArgs();
        DeviceBuffer dx = arena.Allocate(n * sizeof(float)), dy = arena.Allocate(n * sizeof(float)), dz = arena.Allocate(n * sizeof(float));
        float[] ones = Enumerable.Repeat(1f, n).ToArray();

        compute.Fill(dy, 0);
        fetch.CopyToDevice<float>(dx, ones);
        fetch.Record(ready);
        compute.Wait(ready); // the add must see the fetched x
        compute.Record(start);
        new Launcher(device).Launch(SmokeModule.Kernel("vector_add"), LaunchConfig.Linear(n), compute, args.Add(dx).Add(dy).Add(dz).Add(n));
        compute.Record(end);
        var z = new float[n];
        compute.CopyToHost<float>(z, dz);
        compute.Synchronize();

        Assert.All(z, v => Assert.Equal(1f, v));
        Assert.InRange(CudaEvent.ElapsedMilliseconds(start, end), 0f, 1000f);
    }
}
