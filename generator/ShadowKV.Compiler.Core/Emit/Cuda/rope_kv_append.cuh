// ---- rope_kv_append ----------------------------------------------------------------------------------------------
// Op rope_kv_append: q_rot = rope(q); k_cache[seq, h, pos] = rope(k); v_cache[seq, h, pos] = v.
//   q [T, Hq·d] f32, k/v [T, Hkv·d] f32, positions [T] i32, token_seq [T] i32, inv_freq [d/2] f32
//   → q_rot [T, Hq·d] bf16, k_cache/v_cache [B, Hkv, S, d] bf16 at (token_seq[t], h, positions[t]).
// RoPE is Hugging Face's rotate-half: with i < d/2, angle = pos · inv_freq[i],
//   out[i] = x[i]·cos − x[i + d/2]·sin,   out[i + d/2] = x[i + d/2]·cos + x[i]·sin.
// Launch: grid (T), block 128 — one block per token. The d/2 (cos, sin) pairs of the token are computed once into
// shared memory, then threads walk the (head, i) pairs of q and k (and the v elements) so consecutive threads write
// consecutive cache addresses.
// Precision: angle in f32 exactly as HF (f32 product of the f32 position and inv_freq), cosf/sinf with full range
// reduction (angles reach 1e5 rad at long contexts, where __cosf is wrong); rotation in f32; one rounding to bf16.
// A token whose sequence slot or position is outside the cache (a bug upstream) still writes q_rot, but not the cache.

namespace skv_rope_kv_append
{
constexpr int THREADS = 128;
} // namespace skv_rope_kv_append

template <int HEAD_DIM>
__global__ void __launch_bounds__(128) SKV_KERNEL(
    const float* __restrict__ q,        // [T, Hq·d]
    const float* __restrict__ k,        // [T, Hkv·d]
    const float* __restrict__ v,        // [T, Hkv·d]
    const int* __restrict__ positions,  // [T]
    const int* __restrict__ token_seq,  // [T]
    const float* __restrict__ inv_freq, // [d/2]
    bf16* __restrict__ q_rot,           // [T, Hq·d]
    bf16* __restrict__ k_cache,         // [B, Hkv, S, d]
    bf16* __restrict__ v_cache,         // [B, Hkv, S, d]
    int Hq,
    int Hkv,
    int S,
    int B)
{
    using namespace skv_rope_kv_append;
    static_assert(HEAD_DIM % 2 == 0, "rotate-half RoPE needs an even head dim");
    constexpr int HALF = HEAD_DIM / 2;
    __shared__ float s_cos[HALF], s_sin[HALF];

    const int t = blockIdx.x;
    const int pos = positions[t];
    const int seq = token_seq[t];
    for (int i = threadIdx.x; i < HALF; i += THREADS)
    {
        float angle = (float)pos * inv_freq[i];
        s_cos[i] = cosf(angle);
        s_sin[i] = sinf(angle);
    }
    __syncthreads();

    const bool in_cache = seq >= 0 && seq < B && pos >= 0 && pos < S;
    const float* q_row = q + (i64)t * Hq * HEAD_DIM;
    bf16* q_out = q_rot + (i64)t * Hq * HEAD_DIM;
    for (int p = threadIdx.x; p < Hq * HALF; p += THREADS)
    {
        const int h = p / HALF, i = p % HALF;
        const float* src = q_row + h * HEAD_DIM;
        const float x1 = src[i], x2 = src[i + HALF], c = s_cos[i], s = s_sin[i];
        q_out[h * HEAD_DIM + i] = float_to_bf16(x1 * c - x2 * s);
        q_out[h * HEAD_DIM + i + HALF] = float_to_bf16(x2 * c + x1 * s);
    }
    if (!in_cache) return;

    const float* k_row = k + (i64)t * Hkv * HEAD_DIM;
    const float* v_row = v + (i64)t * Hkv * HEAD_DIM;
    for (int p = threadIdx.x; p < Hkv * HALF; p += THREADS)
    {
        const int h = p / HALF, i = p % HALF;
        const float* src = k_row + h * HEAD_DIM;
        bf16* dst = k_cache + (((i64)seq * Hkv + h) * S + pos) * HEAD_DIM;
        const float x1 = src[i], x2 = src[i + HALF], c = s_cos[i], s = s_sin[i];
        dst[i] = float_to_bf16(x1 * c - x2 * s);
        dst[i + HALF] = float_to_bf16(x2 * c + x1 * s);
    }
    for (int e = threadIdx.x; e < Hkv * HEAD_DIM; e += THREADS)
    {
        const int h = e / HEAD_DIM, i = e % HEAD_DIM;
        v_cache[(((i64)seq * Hkv + h) * S + pos) * HEAD_DIM + i] = float_to_bf16(v_row[e]);
    }
}
