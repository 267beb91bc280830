// ---- offload_values: prompt values → chunk-major value store ----------------------------------------------------
// Ops offload_values (value_store in pinned, mapped host memory: written through its device pointer, zero-copy) and
// keep_values (value_store in GPU memory): the same kernel.
//   v_cache     bf16 [B, Hkv, S, d]
//   prompt_len  i32  [B]
//   value_store bf16 [B, Hkv, S/c, c·d]   value_store[s, h, j] = v_cache[s, h, j·c … j·c+c−1], for j < ⌊P/c⌋
// Only whole chunks are stored (the partial last chunk always belongs to the exact local tail and is never fetched), and
// only those of the actual prompt, so a short prompt moves no more bytes over PCIe than it has. Per head the copy is
// contiguous on both sides (chunk-major = token-major within a head); it differs from a flat copy only through the
// per-head strides S·d vs (S/c)·c·d and the ragged prompt lengths. 16-byte accesses (c·d·2 bytes per chunk is a
// multiple of 64 for d a multiple of 32); 256 threads move 8 chunks per block: grid (⌈(S/c)/8⌉, Hkv, B). No helpers
// here: the file may appear twice in one .cu (two ops, two kernel names).

template <int HEAD_DIM, int CHUNK>
__global__ void __launch_bounds__(256)
SKV_KERNEL(const bf16* __restrict__ v_cache,   // [B, Hkv, S, d]
           const int* __restrict__ prompt_len,  // [B]
           bf16* __restrict__ value_store,      // [B, Hkv, S/c, c·d]
           int Hkv, int S)
{
    static_assert((CHUNK * HEAD_DIM * 2) % 16 == 0, "a chunk is a whole number of 16-byte words");
    constexpr int kChunksPerBlock = 8;
    constexpr int kWordsPerChunk = CHUNK * HEAD_DIM * 2 / 16;
    int h = blockIdx.y, s = blockIdx.z;
    int P = min(max(prompt_len[s], 0), S);
    int chunks = P / CHUNK;
    int j0 = blockIdx.x * kChunksPerBlock;
    if (j0 >= chunks) return;
    int words = min(kChunksPerBlock, chunks - j0) * kWordsPerChunk;
    i64 head = (i64)s * Hkv + h;
    const uint4* src = reinterpret_cast<const uint4*>(v_cache + (head * S + (i64)j0 * CHUNK) * HEAD_DIM);
    uint4* dst = reinterpret_cast<uint4*>(value_store + (head * (S / CHUNK) + j0) * CHUNK * HEAD_DIM);
    for (int w = threadIdx.x; w < words; w += 256) dst[w] = src[w];
}
