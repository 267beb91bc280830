// ---- argmax ------------------------------------------------------------------------------------------------------
// Greedy sampling (an engine kernel, not a plan op): tokens[b] = argmax_i logits[b, i], ties → the lowest id.
//   logits [B, vocab] f32 → tokens [B] i32. NaN logits count as −inf; an all −inf row gives id 0.
// Launch: grid (B), block 512 — one block per row; coalesced strided reads, then a (value, id) warp/block reduction.
// Precision: exact (comparisons only).

namespace skv_argmax
{
constexpr int THREADS = 512;

// Is (v, i) better than (best, best_i)? Larger value first, then the lower id.
__device__ __forceinline__ bool better(float v, int i, float best, int best_i) { return v > best || (v == best && i < best_i); }
} // namespace skv_argmax

__global__ void __launch_bounds__(512) SKV_KERNEL(
    const float* __restrict__ logits, // [B, vocab]
    int* __restrict__ tokens,         // [B]
    int vocab)
{
    using namespace skv_argmax;
    __shared__ float s_value[32];
    __shared__ int s_index[32];
    const float* row = logits + (i64)blockIdx.x * vocab;
    float best = __int_as_float(0xff800000);
    int best_i = 0x7fffffff;
    for (int i = threadIdx.x; i < vocab; i += THREADS)
    {
        float v = row[i];
        if (v != v) v = __int_as_float(0xff800000);
        if (better(v, i, best, best_i))
        {
            best = v;
            best_i = i;
        }
    }
    for (int offset = 16; offset > 0; offset >>= 1)
    {
        const float v = __shfl_xor_sync(0xffffffffu, best, offset);
        const int i = __shfl_xor_sync(0xffffffffu, best_i, offset);
        if (better(v, i, best, best_i))
        {
            best = v;
            best_i = i;
        }
    }
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0)
    {
        s_value[warp] = best;
        s_index[warp] = best_i;
    }
    __syncthreads();
    if (warp == 0)
    {
        best = lane < THREADS / 32 ? s_value[lane] : __int_as_float(0xff800000);
        best_i = lane < THREADS / 32 ? s_index[lane] : 0x7fffffff;
        for (int offset = 16; offset > 0; offset >>= 1)
        {
            const float v = __shfl_xor_sync(0xffffffffu, best, offset);
            const int i = __shfl_xor_sync(0xffffffffu, best_i, offset);
            if (better(v, i, best, best_i))
            {
                best = v;
                best_i = i;
            }
        }
        if (lane == 0) tokens[blockIdx.x] = best_i == 0x7fffffff ? 0 : best_i;
    }
}
