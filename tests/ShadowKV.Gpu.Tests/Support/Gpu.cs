using System;
using System.Runtime.CompilerServices;
using ShadowKV.Runtime.Cuda;
using ShadowKV.Runtime.Interop;

[assembly: CollectionBehavior(DisableTestParallelization = true)] // one GPU: timings and free memory stay meaningful

namespace ShadowKV.Gpu.Tests.Support;

/// <summary>The process's GPU, opened once; null with the reason when there is no driver or no device.</summary>
public static class TestGpu
{
    private static readonly Lazy<(CudaDevice? Device, string? Reason)> Probe = new(() =>
    {
        try
        {
            return (CudaDevice.Open(), null);
        }
        catch (Exception e) when (e is DllNotFoundException or CudaException or EntryPointNotFoundException)
        {
            return (null, e.Message);
        }
    });

    public static bool IsAvailable => Probe.Value.Device is not null;

    public static string? UnavailableReason => Probe.Value.Reason;

    /// <summary>The device, for tests marked <see cref="GpuFactAttribute"/> (which only run when it exists).</summary>
    public static CudaDevice Device => Probe.Value.Device ?? throw new InvalidOperationException("no GPU: " + UnavailableReason);
}

/// <summary>A fact that runs only where a CUDA driver and GPU exist, and otherwise skips saying why.</summary>
public sealed class GpuFactAttribute : FactAttribute
{
    public GpuFactAttribute([CallerFilePath] string? sourceFilePath = null, [CallerLineNumber] int sourceLineNumber = -1)
        : base(sourceFilePath, sourceLineNumber)
    {
        if (!TestGpu.IsAvailable)
        {
            Skip = "no CUDA driver/GPU found: " + TestGpu.UnavailableReason;
        }
    }
}

/// <summary>A theory that runs only where a CUDA driver and GPU exist, and otherwise skips saying why.</summary>
public sealed class GpuTheoryAttribute : TheoryAttribute
{
    public GpuTheoryAttribute([CallerFilePath] string? sourceFilePath = null, [CallerLineNumber] int sourceLineNumber = -1)
        : base(sourceFilePath, sourceLineNumber)
    {
        if (!TestGpu.IsAvailable)
        {
            Skip = "no CUDA driver/GPU found: " + TestGpu.UnavailableReason;
        }
    }
}
