namespace ShadowKV.Gpu.Tests.Support;

/// <summary>Self-contained test kernels (no #include), compiled with NVRTC for the device's arch.</summary>
internal static class GpuKernels
{
    public const string SourceName = "gpu_smoke.cu";

    public const string Source = """
        struct bf16 { unsigned short bits; };
        __device__ __forceinline__ float to_float(bf16 x) { return __uint_as_float(((unsigned int)x.bits) << 16); }

        // z[i] = x[i] + y[i]
        extern "C" __global__ void vector_add(const float* x, const float* y, float* z, int n)
        {
            int i = blockIdx.x * blockDim.x + threadIdx.x;
            if (i < n) z[i] = x[i] + y[i];
        }

        // y[i] += x[i]: replayed several times in a graph, the result counts the replays.
        extern "C" __global__ void accumulate(const float* x, float* y, int n)
        {
            int i = blockIdx.x * blockDim.x + threadIdx.x;
            if (i < n) y[i] += x[i];
        }

        // out[0] = sum over G heads of D bf16 values: a template instantiated by name expression.
        template <int D, int G>
        __global__ void head_sum(const bf16* q, float* out)
        {
            float s = 0.f;
            for (int g = 0; g < G; ++g)
                for (int i = threadIdx.x; i < D; i += blockDim.x) s += to_float(q[g * D + i]);
            atomicAdd(out, s);
        }

        // Stages n floats through dynamic shared memory (above the 48 KiB default when n is large), reversed.
        extern "C" __global__ void reverse_through_shared(const float* x, float* y, int n)
        {
            extern __shared__ float staged[];
            for (int i = threadIdx.x; i < n; i += blockDim.x) staged[i] = x[i];
            __syncthreads();
            for (int i = threadIdx.x; i < n; i += blockDim.x) y[i] = staged[n - 1 - i];
        }

        // Reads mapped pinned host memory directly (zero copy): y[i] = 2 * host[i].
        extern "C" __global__ void double_from_host(const float* host, float* y, int n)
        {
            int i = blockIdx.x * blockDim.x + threadIdx.x;
            if (i < n) y[i] = 2.f * host[i];
        }
        """;

    public static readonly string[] Names =
        ["vector_add", "accumulate", "head_sum<128,4>", "reverse_through_shared", "double_from_host"];
}
