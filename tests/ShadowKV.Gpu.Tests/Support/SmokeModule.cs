using System;
using System.IO;
using ShadowKV.Runtime.Cuda;

namespace ShadowKV.Gpu.Tests.Support;

/// <summary>The test kernels compiled once per run (into a fresh cache folder) and loaded on the GPU.</summary>
internal static class SmokeModule
{
    private static readonly Lazy<(CompiledKernels Compiled, CudaModule Module)> Loaded = new(() =>
    {
        var cache = new KernelCache(Path.Combine(Path.GetTempPath(), "skv-gpu-tests-" + Environment.ProcessId));
        CompiledKernels compiled = cache.Compile(GpuKernels.SourceName, GpuKernels.Source, TestGpu.Device.Arch, GpuKernels.Names);
        return (compiled, CudaModule.Load(TestGpu.Device, compiled));
    });

    public static CompiledKernels Compiled => Loaded.Value.Compiled;

    public static CudaKernel Kernel(string nameExpression) => Loaded.Value.Module.GetKernel(nameExpression);
}
