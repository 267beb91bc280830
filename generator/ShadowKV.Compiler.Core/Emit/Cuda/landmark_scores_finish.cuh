// ---- landmark_scores_finish: softmax over all landmarks per query head, max over the GQA group ---------------------
// requires: shadowkv_common.cuh
// Op landmark_scores, pass 2 of 2 (after landmark_scores).
//   landmark_count i32 [B, Hkv]
//   logits         f32 [B, Hkv, G, S/c]            scratch from landmark_scores (base-2 logits)
//   stats          f32 [B, Hkv, ⌈(S/c)/256⌉, G, 2] scratch from landmark_scores
//   scores         f32 [B, Hkv, S/c]               scores[s, h, j] = max_g exp2(l_gj − M_g) / Z_g, for j < landmark_count
// Every block first merges the tile statistics of its (s, h) into the global max M_g and sum Z_g (≤ 128 tiles × G:
// a few KiB from L2, recomputed per block instead of a third launch), in a fixed order: deterministic. Then one thread
// per landmark of its 256-landmark tile. Grid (⌈(S/c)/256⌉, Hkv, B), 256 threads. Scores past the count are not written.

namespace skv_landmark_scores_finish
{
constexpr int kThreads = 256;
constexpr int kTile = 256; // landmark_scores' tile
} // namespace skv_landmark_scores_finish

template <int GROUP>
__global__ void __launch_bounds__(skv_landmark_scores_finish::kThreads)
SKV_KERNEL(const int* __restrict__ landmark_count, // [B, Hkv]
           const float* __restrict__ logits,       // [B, Hkv, G, S/c]
           const float* __restrict__ stats,        // [B, Hkv, tiles, G, 2]
           float* __restrict__ scores,             // [B, Hkv, S/c]
           int Hkv, int chunks)
{
    using namespace skv_landmark_scores_finish;
    __shared__ float sm[GROUP], sz[GROUP];
    int h = blockIdx.y, s = blockIdx.z;
    i64 head = (i64)s * Hkv + h;
    int n = min(max(landmark_count[head], 0), chunks);
    int j0 = blockIdx.x * kTile;
    if (j0 >= n) return; // block-uniform
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    int tiles = (chunks + kTile - 1) / kTile, used = (n + kTile - 1) / kTile;
    const float* st = stats + head * tiles * GROUP * 2;
    for (int g = warp; g < GROUP; g += kThreads / 32)
    {
        float m = skv_common::neg_inf();
        for (int t = lane; t < used; t += 32) m = fmaxf(m, st[(t * GROUP + g) * 2]);
        m = warp_max(m);
        float z = 0.0f;
        for (int t = lane; t < used; t += 32) z += st[(t * GROUP + g) * 2 + 1] * exp2f(st[(t * GROUP + g) * 2] - m);
        z = warp_sum(z);
        if (lane == 0)
        {
            sm[g] = m;
            sz[g] = z;
        }
    }
    __syncthreads();

    int j = j0 + threadIdx.x;
    if (j >= n) return;
    const float* lg = logits + head * GROUP * chunks;
    float best = 0.0f;
    for (int g = 0; g < GROUP; ++g) best = fmaxf(best, exp2f(lg[(i64)g * chunks + j] - sm[g]) / sz[g]);
    scores[head * chunks + j] = best;
}
