// ---- sparse_attention_combine: merge the key-range splits of sparse_attention ------------------------------------
// requires: shadowkv_common.cuh
// Op sparse_attention, pass 2 of 2.
//   partials f32  [B, Hq, splits, d] then [B, Hq, splits, 2] (max, sum; max = −∞ for a split without keys)
//   y        bf16 [B, Hq·d]   y = Σ_z 2^(m_z − M)·o_z / Σ_z 2^(m_z − M)·l_z; 0 for a sequence with no keys at all
// One block of 128 threads per (query head, sequence): grid (Hq, B). The split weights are computed 128 at a time into
// shared memory and applied in ascending split order: deterministic.

namespace skv_sparse_attention_combine
{
constexpr int kThreads = 128;
} // namespace skv_sparse_attention_combine

template <int HEAD_DIM>
__global__ void __launch_bounds__(skv_sparse_attention_combine::kThreads)
SKV_KERNEL(const float* __restrict__ partials, // [B, Hq, splits, d] + [B, Hq, splits, 2]
           bf16* __restrict__ y,               // [B, Hq·d]
           int B, int Hq, int splits)
{
    using namespace skv_sparse_attention_combine;
    constexpr int PER = (HEAD_DIM + kThreads - 1) / kThreads;
    __shared__ float red[32];
    __shared__ float weight[kThreads];
    int hq = blockIdx.x, s = blockIdx.y;
    i64 row0 = ((i64)s * Hq + hq) * splits;
    const float* po = partials + row0 * HEAD_DIM;
    const float* pml = partials + (i64)B * Hq * splits * HEAD_DIM + row0 * 2;

    float M = skv_common::neg_inf();
    for (int z = threadIdx.x; z < splits; z += kThreads) M = fmaxf(M, pml[2 * z]);
    M = block_max(M, red);
    float out[PER] = {};
    float L = 0.0f;
    if (M != skv_common::neg_inf()) // block-uniform
    {
        for (int z0 = 0; z0 < splits; z0 += kThreads)
        {
            __syncthreads(); // weight[] of the previous round is consumed
            int z = z0 + threadIdx.x;
            weight[threadIdx.x] = z < splits ? exp2f(pml[2 * z] - M) : 0.0f;
            __syncthreads();
            int n = min(kThreads, splits - z0);
            for (int x = 0; x < n; ++x)
            {
                float f = weight[x];
                L = fmaf(f, pml[2 * (z0 + x) + 1], L);
                for (int q = 0; q < PER; ++q)
                {
                    int e = threadIdx.x + q * kThreads;
                    if (e < HEAD_DIM) out[q] = fmaf(f, po[(i64)(z0 + x) * HEAD_DIM + e], out[q]);
                }
            }
        }
    }
    float inv = L > 0.0f ? 1.0f / L : 0.0f;
    for (int q = 0; q < PER; ++q)
    {
        int e = threadIdx.x + q * kThreads;
        if (e < HEAD_DIM) y[((i64)s * Hq + hq) * HEAD_DIM + e] = float_to_bf16(out[q] * inv);
    }
}
