// ---- fetch_values: copy the missed chunks' values from the value store into the work buffer ---------------------
// Op fetch_values (runs on the fetch stream, overlapped with rebuild_keys_rope).
//   misses, slot_chunk_next i32 [B, Hkv, k], miss_count i32 [B, Hkv]   (selection_diff)
//   value_store bf16 [B, Hkv, S/c, c·d]   pinned mapped host memory read through its device pointer (zero-copy), or
//                                         GPU memory for keep_values
//   work_v      bf16 [B, Hkv, k·c, d]     rows slot·c … slot·c+c−1 ← value_store[s, h, chunk]
// One warp per missed chunk (c·d·2 bytes: 2 KiB at c=8, d=128 — one contiguous run in the store): every lane issues
// all of its 16-byte loads before its first store, so a warp keeps c·d·2 bytes of PCIe reads in flight, and a block of
// 8 warps 16 KiB; that is what reaches the ≈45 GB/s zero-copy gather rate measured on the H100 host. Grid
// (⌈k/8⌉, Hkv, B); warps past miss_count exit at once.

namespace skv_fetch_values
{
constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
} // namespace skv_fetch_values

template <int HEAD_DIM, int CHUNK>
__global__ void __launch_bounds__(skv_fetch_values::kThreads)
SKV_KERNEL(const int* __restrict__ misses,          // [B, Hkv, k]
           const int* __restrict__ miss_count,      // [B, Hkv]
           const int* __restrict__ slot_chunk_next, // [B, Hkv, k]
           const bf16* __restrict__ value_store,    // [B, Hkv, S/c, c·d]
           bf16* __restrict__ work_v,               // [B, Hkv, k·c, d]
           int Hkv, int S, int budget)              // budget = k
{
    using namespace skv_fetch_values;
    static_assert((CHUNK * HEAD_DIM * 2) % 16 == 0, "a chunk is a whole number of 16-byte words");
    constexpr int kWords = CHUNK * HEAD_DIM * 2 / 16;
    constexpr int kPerLane = (kWords + 31) / 32;
    int lane = threadIdx.x & 31;
    int m = blockIdx.x * kWarps + (threadIdx.x >> 5), h = blockIdx.y, s = blockIdx.z;
    i64 head = (i64)s * Hkv + h;
    if (m >= min(miss_count[head], budget)) return; // warp-uniform
    int slot = misses[head * budget + m];
    if (slot < 0 || slot >= budget) return;
    int chunk = slot_chunk_next[head * budget + slot];
    if (chunk < 0 || chunk >= S / CHUNK) return;

    const uint4* src = reinterpret_cast<const uint4*>(value_store + (head * (S / CHUNK) + chunk) * CHUNK * HEAD_DIM);
    uint4* dst = reinterpret_cast<uint4*>(work_v + (head * budget + slot) * CHUNK * HEAD_DIM);
    uint4 v[kPerLane];
#pragma unroll
    for (int x = 0; x < kPerLane; ++x)
        if (lane + 32 * x < kWords) v[x] = src[lane + 32 * x];
#pragma unroll
    for (int x = 0; x < kPerLane; ++x)
        if (lane + 32 * x < kWords) dst[lane + 32 * x] = v[x];
}
