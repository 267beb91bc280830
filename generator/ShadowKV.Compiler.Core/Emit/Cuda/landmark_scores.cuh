// ---- landmark_scores: q · landmarks per KV head, softmax statistics per tile --------------------------------------
// requires: shadowkv_common.cuh
// Op landmark_scores, pass 1 of 2 (landmark_scores_finish turns logits into scores).
//   q_rot          bf16 [B, Hq·d]            decode query of sequence s (row s), heads h·G … h·G+G−1 read KV head h
//   landmarks      bf16 [B, Hkv, S/c, d]     the first landmark_count[s, h] rows are meaningful
//   landmark_count i32  [B, Hkv]
//   logits         f32  [B, Hkv, G, S/c]     scratch: q_g·landmark_j/√d · log2(e)  (base-2 logits: softmax via exp2f)
//   stats          f32  [B, Hkv, ⌈(S/c)/256⌉, G, 2]  scratch: per tile of 256 landmarks, (max, Σ exp2(l − max)) per head
// Memory-bound on the landmark read (the largest HBM read of a decode step), so every load is a coalesced 16- or
// 8-byte access: 8 lanes cover one landmark (d/8 elements each), a warp reads 4 consecutive landmarks per step, and the
// G partial dot products are reduced over the 8 lanes with 3 shuffles each. Grid (⌈(S/c)/256⌉, Hkv, B), 256 threads:
// 8 warps × 32 landmarks; tiles past the landmark count exit at once. fp32 math.

namespace skv_landmark_scores
{
constexpr int kThreads = 256;
constexpr int kTile = 256;    // landmarks per block (landmark_scores_finish uses the same tiling)
constexpr int kLanes = 8;     // lanes per landmark
constexpr float kLog2e = 1.4426950408889634f;
} // namespace skv_landmark_scores

template <int HEAD_DIM, int GROUP>
__global__ void __launch_bounds__(skv_landmark_scores::kThreads)
SKV_KERNEL(const bf16* __restrict__ q_rot,         // [B, Hq·d]
           const bf16* __restrict__ landmarks,     // [B, Hkv, S/c, d]
           const int* __restrict__ landmark_count, // [B, Hkv]
           float* __restrict__ logits,             // [B, Hkv, G, S/c]
           float* __restrict__ stats,              // [B, Hkv, tiles, G, 2]
           int Hkv, int chunks)                    // chunks = S/c
{
    using namespace skv_landmark_scores;
    static_assert(HEAD_DIM % 32 == 0, "8 lanes × a multiple of 4 elements");
    constexpr int EPL = HEAD_DIM / kLanes; // elements per lane
    __shared__ float sl[GROUP][kTile];
    int h = blockIdx.y, s = blockIdx.z;
    i64 head = (i64)s * Hkv + h;
    int n = min(max(landmark_count[head], 0), chunks);
    int j0 = blockIdx.x * kTile;
    if (j0 >= n) return; // block-uniform
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, group = lane / kLanes, sub = lane % kLanes;

    // This lane's slice of the G queries, pre-scaled by log2(e)/√d.
    float q[GROUP][EPL];
    float scale = kLog2e / sqrtf((float)HEAD_DIM);
    for (int g = 0; g < GROUP; ++g)
    {
        skv_common::load_bf16_vec<EPL>(q_rot + ((i64)s * Hkv * GROUP + (i64)h * GROUP + g) * HEAD_DIM + sub * EPL, q[g]);
        for (int e = 0; e < EPL; ++e) q[g][e] *= scale;
    }

    const bf16* lm = landmarks + head * chunks * HEAD_DIM;
    for (int it = 0; it < 32 / (32 / kLanes); ++it)
    {
        int jj = warp * 32 + it * (32 / kLanes) + group; // index within the tile
        int j = j0 + jj;
        float x[EPL];
        if (j < n)
            skv_common::load_bf16_vec<EPL>(lm + (i64)j * HEAD_DIM + sub * EPL, x);
        else
            for (int e = 0; e < EPL; ++e) x[e] = 0.0f;
        for (int g = 0; g < GROUP; ++g)
        {
            float dot = 0.0f;
            for (int e = 0; e < EPL; ++e) dot = fmaf(q[g][e], x[e], dot);
            for (int offset = kLanes / 2; offset > 0; offset >>= 1) dot += __shfl_xor_sync(0xffffffffu, dot, offset);
            if (sub == 0) sl[g][jj] = j < n ? dot : skv_common::neg_inf();
        }
    }
    __syncthreads();

    float* lg = logits + head * GROUP * chunks;
    for (int w = threadIdx.x; w < GROUP * kTile; w += kThreads)
    {
        int g = w / kTile, jj = w % kTile;
        if (j0 + jj < n) lg[(i64)g * chunks + j0 + jj] = sl[g][jj];
    }
    int tiles = (chunks + kTile - 1) / kTile;
    for (int g = warp; g < GROUP; g += kThreads / 32)
    {
        float m = skv_common::neg_inf();
        for (int jj = lane; jj < kTile; jj += 32) m = fmaxf(m, sl[g][jj]);
        m = warp_max(m); // finite: the tile holds at least one landmark
        float z = 0.0f;
        for (int jj = lane; jj < kTile; jj += 32) z += exp2f(sl[g][jj] - m);
        z = warp_sum(z);
        if (lane == 0)
        {
            float* st = stats + ((head * tiles + blockIdx.x) * GROUP + g) * 2;
            st[0] = m;
            st[1] = z;
        }
    }
}
