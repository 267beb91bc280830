// ---- selection_diff: keep hits in their working slots, give misses the freed slots -------------------------------
// requires: shadowkv_common.cuh
// Op selection_diff.
//   selected        i32 [B, Hkv, k]   this step's chunk ids, ascending, −1 pads at the end (top_k_chunks)
//   slot_chunk      i32 [B, Hkv, k]   chunk held by each working slot after the previous step (−1: empty)
//   slot_chunk_next i32 [B, Hkv, k]   may alias slot_chunk (everything is read into shared memory first)
//   misses          i32 [B, Hkv, k]   the slots to fill this step, ascending, then −1
//   miss_count      i32 [B, Hkv]
// A slot whose chunk is still selected is a hit and keeps it. The selected chunks not held by any slot (in ascending
// id order) go to the non-hit slots (in ascending slot order), m-th to m-th; non-hit slots left over become empty (−1),
// so sparse_attention never attends a chunk that is no longer selected. #non-hit slots = k − hits ≥ #selected − hits,
// so every new chunk finds a slot. Membership is a binary search in the sorted selection. One block of 256 threads per
// (KV head, sequence): grid (Hkv, B); 5·k ints of dynamic shared memory.

namespace skv_selection_diff
{
constexpr int kThreads = 256;
} // namespace skv_selection_diff

template <int CHUNK>
__global__ void __launch_bounds__(skv_selection_diff::kThreads)
SKV_KERNEL(const int* __restrict__ selected,   // [B, Hkv, k]
           const int* slot_chunk,              // [B, Hkv, k] (may alias slot_chunk_next: no __restrict__)
           int* slot_chunk_next,               // [B, Hkv, k]
           int* __restrict__ misses,           // [B, Hkv, k]
           int* __restrict__ miss_count,       // [B, Hkv]
           int Hkv, int budget)                // budget = k
{
    using namespace skv_selection_diff;
    extern __shared__ int smem[];
    int* sel = smem;                // [k] selection
    int* held = sel + budget;       // [k] previous slot contents, then the next ones
    int* found = held + budget;     // [k] selection entry already held by a slot
    int* hit = found + budget;      // [k] slot keeps its chunk
    int* free_slot = hit + budget;  // [k] non-hit slots in ascending order
    __shared__ int scan[33];
    __shared__ int valid_count;
    int h = blockIdx.x, s = blockIdx.y;
    i64 base = ((i64)s * Hkv + h) * budget;

    if (threadIdx.x == 0) valid_count = 0;
    __syncthreads();
    int mine = 0;
    for (int i = threadIdx.x; i < budget; i += kThreads)
    {
        sel[i] = selected[base + i];
        held[i] = slot_chunk[base + i];
        found[i] = 0;
        mine += sel[i] >= 0;
    }
    atomicAdd(&valid_count, mine);
    __syncthreads(); // all reads of slot_chunk are done before any write of slot_chunk_next
    int nsel = valid_count; // valid entries are the prefix sel[0 … nsel)

    for (int i = threadIdx.x; i < budget; i += kThreads)
    {
        int x = held[i], at = -1;
        if (x >= 0)
        {
            int lo = 0, hi = nsel; // first entry ≥ x
            while (lo < hi)
            {
                int mid = (lo + hi) >> 1;
                if (sel[mid] < x) lo = mid + 1; else hi = mid;
            }
            if (lo < nsel && sel[lo] == x) at = lo;
        }
        hit[i] = at >= 0;
        if (at >= 0) found[at] = 1; // chunk ids in slots are distinct: one writer per entry
    }
    __syncthreads();

    // Non-hit slots, ascending.
    int seen = 0;
    for (int t0 = 0; t0 < budget; t0 += kThreads)
    {
        int i = t0 + threadIdx.x;
        int is_free = i < budget && !hit[i];
        int total, rank = skv_common::skv_block_exclusive_scan(is_free, scan, total) + seen;
        if (is_free) free_slot[rank] = i;
        seen += total;
    }
    int free_count = seen;
    __syncthreads();
    for (int i = threadIdx.x; i < budget; i += kThreads)
        if (!hit[i]) held[i] = -1; // emptied unless a new chunk lands there below
    __syncthreads();

    // New chunks (selected, not held), ascending, into the non-hit slots in order.
    seen = 0;
    for (int t0 = 0; t0 < nsel; t0 += kThreads)
    {
        int p = t0 + threadIdx.x;
        int is_new = p < nsel && !found[p];
        int total, rank = skv_common::skv_block_exclusive_scan(is_new, scan, total) + seen;
        if (is_new && rank < free_count)
        {
            int slot = free_slot[rank];
            held[slot] = sel[p];
            misses[base + rank] = slot;
        }
        seen += total;
    }
    int new_count = min(seen, free_count); // equal by the counting argument above
    __syncthreads();

    for (int i = threadIdx.x; i < budget; i += kThreads)
    {
        slot_chunk_next[base + i] = held[i];
        if (i >= new_count) misses[base + i] = -1;
    }
    if (threadIdx.x == 0) miss_count[(i64)s * Hkv + h] = new_count;
}
