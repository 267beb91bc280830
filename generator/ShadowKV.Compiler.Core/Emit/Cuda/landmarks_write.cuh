// ---- landmarks_write: landmark means, exact outlier chunks and the exact local tail --------------------------------
// requires: shadowkv_common.cuh
// Op landmarks, pass 3 of 3 (after landmarks_select).
//   k_cache, v_cache bf16 [B, Hkv, S, d]        post-RoPE keys / values of the prompt
//   prompt_len       i32  [B]
//   chunk_slot       i32  [B, Hkv, S/c]         scratch from landmarks_select
//   landmarks        bf16 [B, Hkv, S/c, d]      landmarks[s, h, chunk_slot[j]] = mean of chunk j's keys (fp32, rounded once)
//   outlier_k/v      bf16 [B, Hkv, o·c, d]      rows oi·c … oi·c+c−1 = chunk j's exact keys/values, oi = −1 − chunk_slot[j]
//   local_k/v        bf16 [B, Hkv, (nloc+1)·c, d] rows 0 … P−c·n_c−1 = tokens c·n_c … P−1 (the exact tail)
//   local_count      i32  [B]                   P − c·n_c
// Units of c tokens, one warp each: unit j < n_c is a compressible chunk (landmark or outlier), n_c ≤ j < ⌈P/c⌉ a piece
// of the tail. 8 warps per block, grid (⌈⌈S/c⌉/8⌉, Hkv, B) (⌈S/c⌉ covers a partial last chunk of a full-capacity
// prompt). Landmarks are bf16: the landmark scan is the largest HBM read of every decode step (2·D/c bytes per token and
// layer in bf16, twice that in f32), and the mean of 8 bf16 keys rounded to bf16 perturbs a logit by ~2⁻⁹ relative,
// far below what changes a top-k choice. Rows beyond the counts are left as they were (readers stop at the counts).

namespace skv_landmarks_write
{
constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;

// One row of d bf16 by one warp: lane moves d/32 elements (2·d/32 bytes) with the widest aligned access.
template <int HEAD_DIM>
__device__ __forceinline__ void copy_row(bf16* __restrict__ dst, const bf16* __restrict__ src, int lane)
{
    constexpr int VEC = HEAD_DIM / 32;
    if constexpr (VEC % 8 == 0)
    {
        for (int v = 0; v < VEC / 8; ++v)
            reinterpret_cast<uint4*>(dst + lane * VEC)[v] = reinterpret_cast<const uint4*>(src + lane * VEC)[v];
    }
    else if constexpr (VEC % 4 == 0)
    {
        for (int v = 0; v < VEC / 4; ++v)
            reinterpret_cast<uint2*>(dst + lane * VEC)[v] = reinterpret_cast<const uint2*>(src + lane * VEC)[v];
    }
    else if constexpr (VEC % 2 == 0)
    {
        for (int v = 0; v < VEC / 2; ++v)
            reinterpret_cast<u32*>(dst + lane * VEC)[v] = reinterpret_cast<const u32*>(src + lane * VEC)[v];
    }
    else
    {
        for (int v = 0; v < VEC; ++v) dst[lane * VEC + v] = src[lane * VEC + v];
    }
}
} // namespace skv_landmarks_write

template <int HEAD_DIM, int CHUNK>
__global__ void __launch_bounds__(skv_landmarks_write::kThreads)
SKV_KERNEL(const bf16* __restrict__ k_cache,   // [B, Hkv, S, d]
           const bf16* __restrict__ v_cache,   // [B, Hkv, S, d]
           const int* __restrict__ prompt_len,  // [B]
           const int* __restrict__ chunk_slot,  // [B, Hkv, S/c]
           bf16* __restrict__ landmarks,        // [B, Hkv, S/c, d]
           bf16* __restrict__ outlier_k,        // [B, Hkv, o·c, d]
           bf16* __restrict__ outlier_v,        // [B, Hkv, o·c, d]
           bf16* __restrict__ local_k,          // [B, Hkv, (nloc+1)·c, d]
           bf16* __restrict__ local_v,          // [B, Hkv, (nloc+1)·c, d]
           int* __restrict__ local_count,       // [B]
           int Hkv, int S, int outliers, int nloc)
{
    using namespace skv_landmarks_write;
    static_assert(HEAD_DIM % 32 == 0, "one warp spans d");
    constexpr int VEC = HEAD_DIM / 32;
    int lane = threadIdx.x & 31;
    int j = blockIdx.x * kWarps + (threadIdx.x >> 5), h = blockIdx.y, s = blockIdx.z;
    int P = min(max(prompt_len[s], 0), S);
    int n_c = max(P / CHUNK - nloc, 0);
    int tail = P - n_c * CHUNK; // ≤ (nloc+1)·c − 1
    if (blockIdx.x == 0 && h == 0 && threadIdx.x == 0) local_count[s] = tail;
    if (j * CHUNK >= P) return; // warp-uniform

    i64 head = (i64)s * Hkv + h;
    const bf16* krows = k_cache + (head * S + (i64)j * CHUNK) * HEAD_DIM;
    const bf16* vrows = v_cache + (head * S + (i64)j * CHUNK) * HEAD_DIM;
    if (j >= n_c)
    {
        bf16* kdst = local_k + (head * (nloc + 1) * CHUNK + (i64)(j - n_c) * CHUNK) * HEAD_DIM;
        bf16* vdst = local_v + (head * (nloc + 1) * CHUNK + (i64)(j - n_c) * CHUNK) * HEAD_DIM;
        for (int i = 0; i < CHUNK && j * CHUNK + i < P; ++i)
        {
            copy_row<HEAD_DIM>(kdst + (i64)i * HEAD_DIM, krows + (i64)i * HEAD_DIM, lane);
            copy_row<HEAD_DIM>(vdst + (i64)i * HEAD_DIM, vrows + (i64)i * HEAD_DIM, lane);
        }
        return;
    }

    int slot = chunk_slot[head * (S / CHUNK) + j];
    if (slot < 0)
    {
        int oi = -1 - slot; // < min(o, n_c) by construction
        bf16* kdst = outlier_k + (head * outliers + oi) * CHUNK * HEAD_DIM;
        bf16* vdst = outlier_v + (head * outliers + oi) * CHUNK * HEAD_DIM;
        for (int i = 0; i < CHUNK; ++i)
        {
            copy_row<HEAD_DIM>(kdst + (i64)i * HEAD_DIM, krows + (i64)i * HEAD_DIM, lane);
            copy_row<HEAD_DIM>(vdst + (i64)i * HEAD_DIM, vrows + (i64)i * HEAD_DIM, lane);
        }
        return;
    }

    // Same summation order as landmarks_cosine, so the landmark is the mean that scored the chunk.
    float m[VEC], x[VEC];
    for (int e = 0; e < VEC; ++e) m[e] = 0.0f;
    for (int i = 0; i < CHUNK; ++i)
    {
        skv_common::load_bf16_vec<VEC>(krows + (i64)i * HEAD_DIM + lane * VEC, x);
        for (int e = 0; e < VEC; ++e) m[e] += x[e];
    }
    bf16* dst = landmarks + (head * (S / CHUNK) + slot) * HEAD_DIM + lane * VEC;
    for (int e = 0; e < VEC; ++e) dst[e] = float_to_bf16(m[e] / (float)CHUNK);
}
