using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace ShadowKV.Runtime.Tests.Cuda;

/// <summary>Small self-contained CUDA sources (no #include, own bf16), as the generator emits them.</summary>
internal static class TestKernels
{
    public const string Source = """
        // Minimal bf16: the upper 16 bits of an IEEE float; rounding to nearest even on conversion.
        struct bf16 { unsigned short bits; };

        __device__ __forceinline__ float to_float(bf16 x) { return __uint_as_float(((unsigned int)x.bits) << 16); }

        __device__ __forceinline__ bf16 to_bf16(float f)
        {
            unsigned int u = __float_as_uint(f);
            u += 0x7FFFu + ((u >> 16) & 1u);
            bf16 r;
            r.bits = (unsigned short)(u >> 16);
            return r;
        }

        // y[i] = a * x[i] + y[i]
        extern "C" __global__ void bf16_axpy(const bf16* x, bf16* y, float a, int n)
        {
            int i = blockIdx.x * blockDim.x + threadIdx.x;
            if (i < n) y[i] = to_bf16(a * to_float(x[i]) + to_float(y[i]));
        }

        // A template instantiated by name expression, like the generated attention kernels.
        template <int D, int G>
        __global__ void head_sum(const bf16* q, float* out)
        {
            float s = 0.f;
            for (int g = 0; g < G; ++g)
                for (int i = threadIdx.x; i < D; i += blockDim.x) s += to_float(q[g * D + i]);
            atomicAdd(out, s);
        }
        """;

    public const string PlainName = "bf16_axpy";
    public const string TemplateName = "head_sum<128,4>";

    /// <summary>A syntax error on line 3 (missing semicolon).</summary>
    public const string Broken = """
        extern "C" __global__ void broken(float* x)
        {
            x[threadIdx.x] = 1.0f
        }
        """;
}
