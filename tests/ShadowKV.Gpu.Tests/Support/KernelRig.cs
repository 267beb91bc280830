using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using ShadowKV.Runtime.Cuda;

namespace ShadowKV.Gpu.Tests.Support;

/// <summary>
/// Drives one generated kernel standalone: compiles a generated phase's .cu (Llama.Cuda.*) for the name expressions a
/// test needs (cached per process), uploads the buffers the test fills, launches through the <see cref="Launcher"/>
/// on a named stream and reads results back.
/// </summary>
internal sealed class KernelRig : IDisposable
{
    private static readonly KernelCache Cache = new(Path.Combine(Path.GetTempPath(), "skv-gpu-kernel-tests-" + Environment.ProcessId));
    private static readonly ConcurrentDictionary<string, CudaModule> Modules = new(StringComparer.Ordinal);

    private readonly CudaDevice device = TestGpu.Device;
    private readonly DeviceArena arena;
    private readonly Launcher launcher;
    private readonly List<KernelArgs> args = [];

    public KernelRig(long bytes = 256L << 20)
    {
        arena = DeviceArena.Create(device, bytes, "kernel-test");
        Stream = CudaStream.Create(device, "kernel-test");
        launcher = new Launcher(device, synchronizeEachLaunch: true);
    }

    public CudaStream Stream { get; }

    /// <summary>Compiles (once per process and name list) a generated source and returns the kernel.</summary>
    public static CudaKernel Kernel(string sourceName, string source, string nameExpression)
    {
        CudaModule module = Modules.GetOrAdd(sourceName + "|" + nameExpression, _ =>
        {
            var clock = Stopwatch.StartNew();
            CompiledKernels compiled = Cache.Compile(sourceName, source, TestGpu.Device.Arch, [nameExpression]);
            Console.WriteLine($"[compile] {nameExpression} from {sourceName}: {clock.Elapsed.TotalMilliseconds:F0} ms (cache {(compiled.FromCache ? "hit" : "miss")})");
            return CudaModule.Load(TestGpu.Device, compiled);
        });
        return module.GetKernel(nameExpression);
    }

    public DeviceBuffer Upload<T>(T[] values)
        where T : unmanaged
    {
        DeviceBuffer buffer = arena.Allocate(Math.Max(1, (long)values.Length * System.Runtime.CompilerServices.Unsafe.SizeOf<T>()));
        Stream.CopyToDevice<T>(buffer, values);
        return buffer;
    }

    /// <summary>A buffer of <paramref name="bytes"/> filled with 0xFF bytes (NaN for floats), so an unwritten output shows.</summary>
    public DeviceBuffer Poisoned(long bytes)
    {
        DeviceBuffer buffer = arena.Allocate(Math.Max(bytes, 1));
        Stream.Fill(buffer, 0xFF);
        return buffer;
    }

    public T[] Download<T>(DeviceBuffer buffer, long count)
        where T : unmanaged
    {
        var values = new T[count];
        Stream.CopyToHost<T>(values, buffer.Slice(0, count * System.Runtime.CompilerServices.Unsafe.SizeOf<T>()));
        Stream.Synchronize();
        return values;
    }

    public float[] DownloadBf16(DeviceBuffer buffer, long count) => Download<ushort>(buffer, count).Select(Bf16.ToFloat).ToArray();

    /// <summary>Launches with arguments of type DeviceBuffer, int or float, in the kernel's parameter order.</summary>
    public void Launch(CudaKernel kernel, Dim3 grid, Dim3 block, int sharedBytes, params object[] arguments)
    {
        var list = new KernelArgs();
        args.Add(list);
        foreach (object argument in arguments)
        {
            _ = argument switch
            {
                DeviceBuffer b => list.Add(b),
                int i => list.Add(i),
                float f => list.Add(f),
                _ => throw new ArgumentException($"Unsupported kernel argument {argument.GetType()}."),
            };
        }

        launcher.Launch(kernel, new LaunchConfig(grid, block, sharedBytes), Stream, list);
        Stream.Synchronize();
    }

    public void Dispose()
    {
        foreach (KernelArgs list in args)
        {
            list.Dispose();
        }

        Stream.Dispose();
        arena.Dispose();
    }
}

/// <summary>Comparison helpers that report the worst element.</summary>
internal static class Compare
{
    /// <summary>Asserts |actual − expected| ≤ abs + rel·|expected| elementwise; returns the worst error for the log.</summary>
    public static double Close(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, double abs, double rel, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double error = Math.Abs((double)actual[i] - expected[i]);
            if (!(error <= abs + rel * Math.Abs(expected[i])))
            {
                Assert.Fail($"{what}: element {i} is {actual[i]}, expected {expected[i]} (error {error:E3} > {abs} + {rel}·|expected|)");
            }

            worst = Math.Max(worst, error);
        }

        return worst;
    }

    public static float[] RandomFloats(int count, int seed, float scale = 1f)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = (float)(random.NextDouble() * 2 - 1) * scale;
        }

        return values;
    }

    /// <summary>Random values rounded to bf16, as bits, with their float values.</summary>
    public static (ushort[] Bits, float[] Values) RandomBf16(int count, int seed, float scale = 1f)
    {
        float[] values = RandomFloats(count, seed, scale).Select(Bf16.Round).ToArray();
        return (values.Select(Bf16.FromFloat).ToArray(), values);
    }
}
