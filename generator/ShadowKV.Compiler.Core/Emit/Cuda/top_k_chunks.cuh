// ---- top_k_chunks: the k highest-scoring chunks per KV head -----------------------------------------------------
// requires: shadowkv_common.cuh
// Op top_k_chunks.
//   scores         f32 [B, Hkv, S/c]   landmark scores (first landmark_count entries)
//   landmark_ids   i32 [B, Hkv, S/c]   chunk id of each landmark, ascending (landmarks' contract)
//   landmark_count i32 [B, Hkv]
//   selected       i32 [B, Hkv, k]     the min(k, n) chosen chunk ids, ascending, then −1 pads
// Ties → lower chunk id. One block of 1024 threads per (KV head, sequence): grid (Hkv, B). A radix select (4 passes of
// 8 bits over the order-preserving score bits; 32K landmarks × 4 B stay in L2) finds the k-th largest score, then one
// ordered pass with a block scan emits the chosen landmarks in index order — i.e. ascending chunk id, so no sort is
// needed — taking equal-score landmarks lowest index first until k are chosen. n ≤ k skips the selection.

namespace skv_top_k_chunks
{
constexpr int kThreads = 1024;
} // namespace skv_top_k_chunks

template <int CHUNK>
__global__ void __launch_bounds__(skv_top_k_chunks::kThreads)
SKV_KERNEL(const float* __restrict__ scores,       // [B, Hkv, S/c]
           const int* __restrict__ landmark_ids,   // [B, Hkv, S/c]
           const int* __restrict__ landmark_count, // [B, Hkv]
           int* __restrict__ selected,             // [B, Hkv, k]
           int Hkv, int chunks, int budget)        // chunks = S/c, budget = k
{
    using namespace skv_top_k_chunks;
    __shared__ int hist[258];
    __shared__ int scan[33];
    int h = blockIdx.x, s = blockIdx.y;
    i64 head = (i64)s * Hkv + h;
    int n = min(max(landmark_count[head], 0), chunks);
    const float* sc = scores + head * chunks;
    const int* ids = landmark_ids + head * chunks;
    int* out = selected + head * budget;
    int take = min(n, budget);

    if (n <= budget)
    {
        for (int i = threadIdx.x; i < budget; i += kThreads) out[i] = i < n ? ids[i] : -1;
        return;
    }

    auto key = [sc](int i) { return skv_common::float_order_key(sc[i]); };
    u32 threshold;
    int above;
    skv_common::skv_radix_select_threshold(key, n, take, hist, threshold, above);
    int need = take - above;

    int seen_above = 0, seen_eq = 0;
    for (int t0 = 0; t0 < n; t0 += kThreads) // block-uniform trip count
    {
        int i = t0 + threadIdx.x;
        bool gt = false, eq = false;
        if (i < n)
        {
            u32 kv = key(i);
            gt = kv > threshold;
            eq = kv == threshold;
        }
        int total;
        int before = skv_common::skv_block_exclusive_scan((int)gt | ((int)eq << 16), scan, total);
        int gt_before = seen_above + (before & 0xffff), eq_before = seen_eq + (before >> 16);
        if (gt || (eq && eq_before < need)) out[gt_before + min(eq_before, need)] = ids[i];
        seen_above += total & 0xffff;
        seen_eq += total >> 16;
    }
    // take == budget here: every slot was written.
}
