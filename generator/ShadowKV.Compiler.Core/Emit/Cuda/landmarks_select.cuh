// ---- landmarks_select: pick the outlier chunks, number the remaining landmarks ------------------------------------
// requires: shadowkv_common.cuh
// Op landmarks, pass 2 of 3 (after landmarks_cosine, before landmarks_write).
//   scores         f32 [B, Hkv, S/c]  scratch from landmarks_cosine (the first n_c entries are meaningful)
//   prompt_len     i32 [B]
//   landmark_ids   i32 [B, Hkv, S/c]  chunk ids of the non-outlier chunks, ascending; −1 after landmark_count
//   landmark_count i32 [B, Hkv]       n_c − min(o, n_c)
//   chunk_slot     i32 [B, Hkv, S/c]  scratch for landmarks_write: j's landmark index (≥ 0), or −1 − its outlier index
// The outliers are the min(o, n_c) chunks with the smallest score, ties → lower chunk id; they are numbered in ascending
// chunk order (outlier_k/v rows follow that order). One block of 1024 threads per (KV head, sequence): grid (Hkv, B).
// Selection = radix select on the order-reversed score bits (4 passes over the scores, which stay in L2), then one
// ordered pass whose block scan counts, for each chunk, the outliers before it: equal-score chunks are taken in index
// order until the budget is met, which is the tie rule.

namespace skv_landmarks_select
{
constexpr int kThreads = 1024;
} // namespace skv_landmarks_select

template <int CHUNK>
__global__ void __launch_bounds__(skv_landmarks_select::kThreads)
SKV_KERNEL(const float* __restrict__ scores,    // [B, Hkv, S/c]
           const int* __restrict__ prompt_len,  // [B]
           int* __restrict__ landmark_ids,      // [B, Hkv, S/c]
           int* __restrict__ landmark_count,    // [B, Hkv]
           int* __restrict__ chunk_slot,        // [B, Hkv, S/c]
           int Hkv, int S, int outliers, int nloc)
{
    using namespace skv_landmarks_select;
    __shared__ int hist[258];
    __shared__ int scan[33];
    int h = blockIdx.x, s = blockIdx.y;
    int chunks = S / CHUNK;
    i64 base = ((i64)s * Hkv + h) * chunks;
    int P = min(max(prompt_len[s], 0), S);
    int n = max(P / CHUNK - nloc, 0);
    int n_out = min(max(outliers, 0), n);
    const float* sc = scores + base;

    // Key order: the smallest score is the largest key.
    auto key = [sc](int i) { return ~skv_common::float_order_key(sc[i]); };
    u32 threshold = 0;
    int above = 0;
    bool partial = n_out > 0 && n_out < n; // otherwise every chunk (n_out == n) or none is an outlier
    if (partial) skv_common::skv_radix_select_threshold(key, n, n_out, hist, threshold, above);
    int need = n_out - above; // equal-to-threshold chunks to take, lowest index first

    int seen_above = 0, seen_eq = 0;
    for (int t0 = 0; t0 < n; t0 += kThreads) // block-uniform trip count
    {
        int i = t0 + threadIdx.x;
        bool valid = i < n;
        bool gt = false, eq = false;
        if (valid)
        {
            if (partial)
            {
                u32 kv = key(i);
                gt = kv > threshold;
                eq = kv == threshold;
            }
            else
            {
                gt = n_out == n;
            }
        }
        int total;
        int before = skv_common::skv_block_exclusive_scan((int)gt | ((int)eq << 16), scan, total);
        int gt_before = seen_above + (before & 0xffff), eq_before = seen_eq + (before >> 16);
        if (valid)
        {
            bool out = gt || (eq && eq_before < need);
            int out_rank = gt_before + min(eq_before, need);
            if (out)
            {
                chunk_slot[base + i] = -1 - out_rank;
            }
            else
            {
                int rank = i - out_rank;
                chunk_slot[base + i] = rank;
                landmark_ids[base + rank] = i;
            }
        }
        seen_above += total & 0xffff;
        seen_eq += total >> 16;
    }
    for (int i = n - n_out + threadIdx.x; i < chunks; i += kThreads) landmark_ids[base + i] = -1;
    if (threadIdx.x == 0) landmark_count[(i64)s * Hkv + h] = n - n_out;
}
