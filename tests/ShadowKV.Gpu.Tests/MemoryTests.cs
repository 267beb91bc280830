using System;
using System.Linq;
using ShadowKV.Gpu.Tests.Support;
using ShadowKV.Runtime.Cuda;

namespace ShadowKV.Gpu.Tests;

public sealed class MemoryTests
{
    [GpuFact]
    public void Arena_slices_are_aligned_and_hold_data()
    {
        CudaDevice device = TestGpu.Device;
        using var arena = DeviceArena.Create(device, 1 << 20, "test");
        using var stream = CudaStream.Create(device, "test");
        float[] values = Enumerable.Range(0, 1000).Select(i => i * 0.5f).ToArray();

        DeviceBuffer first = arena.Allocate(4000, "first");
        DeviceBuffer second = arena.Allocate(values.Length * sizeof(float), "second");
        DeviceBuffer planned = arena.Slice(512 * 1024, 4096);
        stream.Fill(first, 0xFF);
        stream.CopyToDevice<float>(second, values);
        stream.CopyDeviceToDevice(planned, second, second.Bytes);
        var back = new float[values.Length];
        var filled = new byte[4000];
        stream.CopyToHost<float>(back, planned);
        stream.CopyToHost<byte>(filled, first);
        stream.Synchronize();

        Assert.Equal(0UL, first.Pointer % DeviceArena.Alignment);
        Assert.Equal(0UL, second.Pointer % DeviceArena.Alignment);
        Assert.Equal(2 * 4096, arena.AllocatedBytes); // each 4000-byte buffer rounds up to 4096
        Assert.Equal(values, back);
        Assert.All(filled, b => Assert.Equal(0xFF, b));
        Assert.Throws<InsufficientMemoryException>(() => arena.Allocate(2 << 20));
    }

    [GpuFact]
    public void Pinned_pool_round_trips_through_the_device()
    {
        CudaDevice device = TestGpu.Device;
        const int count = 1 << 16;
        using var pool = PinnedHostPool.Create(device, 2L * count * sizeof(float), "values");
        using var arena = DeviceArena.Create(device, count * sizeof(float), "staging");
        using var stream = CudaStream.Create(device, "fetch");
        Span<float> source = pool.AsSpan<float>(0, count);
        for (int i = 0; i < count; i++)
        {
            source[i] = i - 1000.25f;
        }

        stream.CopyToDevice(arena.Buffer, pool.HostPointer, count * sizeof(float));
        stream.CopyToHost(pool.HostPointer + count * sizeof(float), arena.Buffer, count * sizeof(float));
        stream.Synchronize();

        Assert.True(pool.AsSpan<float>(count * sizeof(float), count).SequenceEqual(pool.AsSpan<float>(0, count)));
        Assert.NotEqual(0UL, pool.DevicePointer);
    }

    [GpuFact]
    public void Kernels_read_mapped_pinned_memory_directly()
    {
        CudaDevice device = TestGpu.Device;
        const int n = 4096;
        using var pool = PinnedHostPool.Create(device, n * sizeof(float), "mapped");
        using var arena = DeviceArena.Create(device, n * sizeof(float), "out");
        using var stream = CudaStream.Create(device, "compute");
        using var args = new KernelArgs();
        Span<float> host = pool.AsSpan<float>(0, n);
        for (int i = 0; i < n; i++)
        {
            host[i] = i;
        }

        new Launcher(device).Launch(SmokeModule.Kernel("double_from_host"), LaunchConfig.Linear(n), stream,
            args.Add(pool.DeviceBuffer).Add(arena.Buffer).Add(n));
        var result = new float[n];
        stream.CopyToHost<float>(result, arena.Buffer);
        stream.Synchronize();

        Assert.Equal(Enumerable.Range(0, n).Select(i => 2f * i), result);
    }

    [GpuFact]
    public void Admission_refuses_an_absurd_request_with_the_numbers()
    {
        var request = new MemoryRequest(DeviceBytes: 1L << 50, PinnedHostBytes: 1L << 50, "an absurd request", "everything");

        var error = Assert.Throws<AdmissionException>(() => AdmissionControl.EnsureFits(TestGpu.Device, request));

        Assert.Contains("an absurd request", error.Message, StringComparison.Ordinal);
        Assert.Contains(AdmissionControl.Format(1L << 50), error.Message, StringComparison.Ordinal);
        Assert.Contains(AdmissionControl.Format(error.Snapshot.DeviceFreeBytes), error.Message, StringComparison.Ordinal);
        Assert.Contains(AdmissionControl.Format(error.Snapshot.DeviceTotalBytes), error.Message, StringComparison.Ordinal);
        Assert.Contains("pinned host memory", error.Message, StringComparison.Ordinal);
        Assert.Contains("Reduce everything.", error.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<OutOfMemoryException>(error);
    }

    [GpuFact]
    public void Admission_accepts_a_small_request()
    {
        AdmissionControl.EnsureFits(TestGpu.Device, new MemoryRequest(DeviceBytes: 1 << 20, PinnedHostBytes: 1 << 20, "small", "nothing"));
    }
}
