using System;
using ShadowKV.Gpu.Tests.Support;
using ShadowKV.Runtime.Cuda;
using ShadowKV.Runtime.Interop;

namespace ShadowKV.Gpu.Tests;

public sealed class DeviceTests(ITestOutputHelper output)
{
    [GpuFact]
    public void Reports_the_device_and_its_limits()
    {
        CudaDevice device = TestGpu.Device;
        output.WriteLine($"{device}; arch {device.Arch}; NVRTC {NvrtcCompiler.Version}; " +
                         $"{NativeLibraries.LoadedFileName(NativeLibraries.Nvrtc)}; shared optin {device.MaxSharedMemoryPerBlockOptin}");

        Assert.False(string.IsNullOrWhiteSpace(device.Name));
        Assert.True(device.ComputeCapability.Major >= 8, "bf16 tensor cores need compute capability 8.0+");
        Assert.True(device.MultiprocessorCount > 0);
        Assert.True(device.MaxSharedMemoryPerBlockOptin > CudaKernel.DefaultMaxDynamicSharedBytes);
        Assert.True(device.CanMapHostMemory);
        Assert.StartsWith($"sm_{device.ComputeCapability.Major}{device.ComputeCapability.Minor}", device.Arch, StringComparison.Ordinal);
        (long free, long total) = device.MemoryInfo();
        Assert.InRange(free, 1, total);
        Assert.InRange(total, 1, device.TotalMemoryBytes);
    }

    [GpuFact]
    public void Hopper_gets_the_arch_specific_target_with_a_new_nvrtc()
    {
        CudaDevice device = TestGpu.Device;
        if (device.ComputeCapability != (9, 0) || NvrtcCompiler.Version.Major < 12)
        {
            Assert.Skip($"not an H100/H200 with NVRTC ≥ 12 (compute {device.ComputeCapability}, NVRTC {NvrtcCompiler.Version})");
        }

        Assert.Equal("sm_90a", device.Arch);
    }
}
