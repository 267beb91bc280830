using System;
using ShadowKV.Runtime.Cuda;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace ShadowKV.Runtime.Tests.Cuda;

public sealed class CudaDeviceTests
{
    [Theory]
    [InlineData(9, 0, 13, "sm_90a")] // H100/H200 with CUDA 13's NVRTC: Hopper-only instructions available
    [InlineData(9, 0, 12, "sm_90a")]
    [InlineData(9, 0, 11, "sm_90")]  // NVRTC 11.8 knows sm_90 but not sm_90a
    [InlineData(8, 0, 13, "sm_80")]
    [InlineData(8, 9, 12, "sm_89")]
    [InlineData(12, 0, 13, "sm_120")]
    public void Arch_string_follows_compute_capability_and_nvrtc(int major, int minor, int nvrtcMajor, string expected) =>
        Assert.Equal(expected, CudaDevice.ArchFor(major, minor, nvrtcMajor));
}
