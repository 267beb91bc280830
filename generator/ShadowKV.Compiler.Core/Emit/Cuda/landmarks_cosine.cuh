// ---- landmarks_cosine: per-chunk outlier scores (min cosine of a chunk's keys to their mean) ----------------------
// requires: shadowkv_common.cuh
// Op landmarks, pass 1 of 3 (then landmarks_select, landmarks_write).
//   k_cache    bf16 [B, Hkv, S, d]   post-RoPE keys of the prompt
//   prompt_len i32  [B]
//   scores     f32  [B, Hkv, S/c]    scratch; scores[s, h, j] = min_i cos(k_i, m_j), m_j the fp32 mean of chunk j's c keys,
//                                    for the n_c = max(0, ⌊P/c⌋ − nloc) compressible chunks of sequence s (P = prompt_len[s])
// One warp per chunk, each lane holding d/32 consecutive elements of every key of the chunk (c·d/32 registers);
// 8 warps per block, grid (⌈(S/c)/8⌉, Hkv, B). The same mean is recomputed by landmarks_write (cheaper than storing
// fp32 means for every chunk). cos = k·m / sqrt(|k|²·|m|²), fp32; a zero vector counts as cosine 0.

namespace skv_landmarks_cosine
{
constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
} // namespace skv_landmarks_cosine

template <int HEAD_DIM, int CHUNK>
__global__ void __launch_bounds__(skv_landmarks_cosine::kThreads)
SKV_KERNEL(const bf16* __restrict__ k_cache,  // [B, Hkv, S, d]
           const int* __restrict__ prompt_len, // [B]
           float* __restrict__ scores,         // [B, Hkv, S/c]
           int Hkv, int S, int nloc)
{
    using namespace skv_landmarks_cosine;
    static_assert(HEAD_DIM % 32 == 0, "one warp spans d");
    constexpr int VEC = HEAD_DIM / 32;
    int lane = threadIdx.x & 31;
    int j = blockIdx.x * kWarps + (threadIdx.x >> 5), h = blockIdx.y, s = blockIdx.z;
    int P = min(max(prompt_len[s], 0), S);
    int n_c = max(P / CHUNK - nloc, 0);
    if (j >= n_c) return; // warp-uniform; no block-wide synchronisation below

    const bf16* rows = k_cache + (((i64)s * Hkv + h) * S + (i64)j * CHUNK) * HEAD_DIM + lane * VEC;
    float x[CHUNK][VEC], m[VEC];
    for (int e = 0; e < VEC; ++e) m[e] = 0.0f;
#pragma unroll
    for (int i = 0; i < CHUNK; ++i)
    {
        skv_common::load_bf16_vec<VEC>(rows + (i64)i * HEAD_DIM, x[i]);
        for (int e = 0; e < VEC; ++e) m[e] += x[i][e];
    }
    float mm = 0.0f;
    for (int e = 0; e < VEC; ++e)
    {
        m[e] = m[e] / (float)CHUNK;
        mm = fmaf(m[e], m[e], mm);
    }
    mm = warp_sum(mm);
    float best = 3.402823466e+38f;
#pragma unroll
    for (int i = 0; i < CHUNK; ++i)
    {
        float dot = 0.0f, kk = 0.0f;
        for (int e = 0; e < VEC; ++e)
        {
            dot = fmaf(x[i][e], m[e], dot);
            kk = fmaf(x[i][e], x[i][e], kk);
        }
        dot = warp_sum(dot);
        kk = warp_sum(kk);
        float den = sqrtf(kk * mm);
        best = fminf(best, den > 0.0f ? dot / den : 0.0f);
    }
    if (lane == 0) scores[((i64)s * Hkv + h) * (S / CHUNK) + j] = best;
}
