// ---- embedding ---------------------------------------------------------------------------------------------------
// Op embedding: x[t] = table[tokens[t]] as f32.
//   tokens [T] i32, table [vocab, hidden] bf16, x [T, hidden] f32.
// Launch: grid (T), block 256 — one block per token row, threads stride over the row. When hidden % 8 == 0 and the
// pointers are 16-byte aligned a thread moves 8 values per step (one 16-byte load, two 16-byte stores).
// Precision: bf16 → f32 is exact. A token id outside [0, vocab) is a bug upstream; its row is written as zeros rather
// than read out of bounds.

namespace skv_embedding
{
constexpr int THREADS = 256;

__device__ __forceinline__ float low_bf16(u32 w) { return __uint_as_float(w << 16); }
__device__ __forceinline__ float high_bf16(u32 w) { return __uint_as_float(w & 0xffff0000u); }
} // namespace skv_embedding

__global__ void __launch_bounds__(256) SKV_KERNEL(
    const int* __restrict__ tokens, // [T]
    const bf16* __restrict__ table, // [vocab, hidden]
    float* __restrict__ x,          // [T, hidden]
    int hidden,
    int vocab)
{
    using namespace skv_embedding;
    const int t = blockIdx.x;
    const int token = tokens[t];
    float* out = x + (i64)t * hidden;
    if (token < 0 || token >= vocab)
    {
        for (int i = threadIdx.x; i < hidden; i += THREADS) out[i] = 0.0f;
        return;
    }

    const bf16* row = table + (i64)token * hidden;
    const bool vector = (hidden % 8) == 0 && (((u64)row | (u64)out) & 15) == 0;
    if (vector)
    {
        const uint4* src = reinterpret_cast<const uint4*>(row);
        float4* dst = reinterpret_cast<float4*>(out);
        for (int i = threadIdx.x; i < hidden / 8; i += THREADS)
        {
            uint4 w = src[i];
            dst[2 * i] = make_float4(low_bf16(w.x), high_bf16(w.x), low_bf16(w.y), high_bf16(w.y));
            dst[2 * i + 1] = make_float4(low_bf16(w.z), high_bf16(w.z), low_bf16(w.w), high_bf16(w.w));
        }
    }
    else
    {
        for (int i = threadIdx.x; i < hidden; i += THREADS) out[i] = bf16_to_float(row[i]);
    }
}
