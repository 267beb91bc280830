using System;
using ShadowKV.Runtime.Cuda;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace ShadowKV.Runtime.Tests.Cuda;

/// <summary>Skips a test when no NVRTC library loads (CI machines without libnvrtc), saying which names were tried.</summary>
internal static class NvrtcRequirement
{
    public static void Require()
    {
        if (!NvrtcCompiler.IsAvailable(out string? reason))
        {
            Assert.Skip($"NVRTC not found, so CUDA compilation is not tested here: {reason}");
        }
    }
}
