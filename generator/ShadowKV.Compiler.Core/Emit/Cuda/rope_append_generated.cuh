// ---- rope_append_generated: RoPE the decode token's q and k, append k and v to the generated-token region --------
// Op rope_append_generated.
//   q            f32  [T, Hq·d]      k, v f32 [T, D]   (the projections' outputs, pre-RoPE)
//   positions    i32  [T], token_seq i32 [T], prompt_len i32 [B], inv_freq f32 [d/2]
//   q_rot        bf16 [T, Hq·d]      rope(q)
//   gen_k, gen_v bf16 [B, Hkv, max_new, d]   row pos − prompt_len[s] ← rope(k), v
// RoPE is Hugging Face's rotate-half: for i < d/2, θ = pos·inv_freq[i] in fp32 with cosf/sinf (the precise ones),
// x'[i] = x[i]·cos θ − x[i+d/2]·sin θ, x'[i+d/2] = x[i+d/2]·cos θ + x[i]·sin θ. One block of 128 threads per token
// (grid (T)): cos/sin of the d/2 angles once in shared memory, then every head of q and k and the copy of v.
// A row outside [0, max_new) is not written (admission control sizes max_new; this only keeps a bad position from
// writing out of bounds); q_rot is written regardless.

namespace skv_rope_append_generated
{
constexpr int kThreads = 128;
} // namespace skv_rope_append_generated

template <int HEAD_DIM>
__global__ void __launch_bounds__(skv_rope_append_generated::kThreads)
SKV_KERNEL(const float* __restrict__ q,          // [T, Hq·d]
           const float* __restrict__ k,          // [T, D]
           const float* __restrict__ v,          // [T, D]
           const int* __restrict__ positions,    // [T]
           const int* __restrict__ token_seq,    // [T]
           const float* __restrict__ inv_freq,   // [d/2]
           const int* __restrict__ prompt_len,   // [B]
           bf16* __restrict__ q_rot,             // [T, Hq·d]
           bf16* __restrict__ gen_k,             // [B, Hkv, max_new, d]
           bf16* __restrict__ gen_v,             // [B, Hkv, max_new, d]
           int Hq, int Hkv, int max_new)
{
    using namespace skv_rope_append_generated;
    static_assert(HEAD_DIM % 2 == 0, "rotate-half pairs i with i + d/2");
    constexpr int HALF = HEAD_DIM / 2;
    __shared__ float cs[HALF], sn[HALF];
    int t = blockIdx.x;
    int pos = positions[t], s = token_seq[t];
    for (int i = threadIdx.x; i < HALF; i += kThreads)
    {
        float angle = (float)pos * inv_freq[i];
        cs[i] = cosf(angle);
        sn[i] = sinf(angle);
    }
    __syncthreads();

    const float* qt = q + (i64)t * Hq * HEAD_DIM;
    bf16* qo = q_rot + (i64)t * Hq * HEAD_DIM;
    for (int w = threadIdx.x; w < Hq * HALF; w += kThreads)
    {
        int hh = w / HALF, i = w % HALF;
        float a = qt[hh * HEAD_DIM + i], b = qt[hh * HEAD_DIM + i + HALF];
        qo[hh * HEAD_DIM + i] = float_to_bf16(a * cs[i] - b * sn[i]);
        qo[hh * HEAD_DIM + i + HALF] = float_to_bf16(b * cs[i] + a * sn[i]);
    }

    if (s < 0) return; // a padding token: nothing to append
    int row = pos - prompt_len[s];
    if (row < 0 || row >= max_new) return; // block-uniform, nothing synchronises after this
    const float* kt = k + (i64)t * Hkv * HEAD_DIM;
    const float* vt = v + (i64)t * Hkv * HEAD_DIM;
    for (int w = threadIdx.x; w < Hkv * HALF; w += kThreads)
    {
        int hh = w / HALF, i = w % HALF;
        bf16* ko = gen_k + (((i64)s * Hkv + hh) * max_new + row) * HEAD_DIM;
        float a = kt[hh * HEAD_DIM + i], b = kt[hh * HEAD_DIM + i + HALF];
        ko[i] = float_to_bf16(a * cs[i] - b * sn[i]);
        ko[i + HALF] = float_to_bf16(b * cs[i] + a * sn[i]);
    }
    for (int w = threadIdx.x; w < Hkv * HEAD_DIM; w += kThreads)
    {
        int hh = w / HEAD_DIM, e = w % HEAD_DIM;
        gen_v[(((i64)s * Hkv + hh) * max_new + row) * HEAD_DIM + e] = float_to_bf16(vt[w]);
    }
}
