// ---- decode_attention_combine ------------------------------------------------------------------------------------
// Op decode_attention, second kernel: merges the split partials written by decode_attention.
//   partials [B, Hq, splits, d + 2] f32 (scratch decode_partials; per split Σ 2^(x−m)·v, m, l), token_seq [B] i32,
//   context_len [B] i32 → y [B, Hq·d] bf16, y = Σ_i 2^(m_i − M)·acc_i / Σ_i 2^(m_i − M)·l_i over the live splits
//   i < ceildiv(context_len, 256), M = max_i m_i.
// Launch: grid (Hq, B), block 128 — one block per (row, query head); threads reduce M and the denominator over the
// splits, then stride over d. A row whose context is empty (a bug upstream) is written as zeros.
// Precision: f32 merge, one rounding of y to bf16.

namespace skv_decode_attention_combine
{
constexpr int SPLIT = 256; // must equal decode_attention's SPLIT
constexpr int THREADS = 128;
} // namespace skv_decode_attention_combine

template <int HEAD_DIM>
__global__ void __launch_bounds__(128) SKV_KERNEL(
    const float* __restrict__ partials,  // [B, Hq, splits, d + 2]
    const int* __restrict__ token_seq,   // [B]
    const int* __restrict__ context_len, // [B]
    bf16* __restrict__ y,                // [B, Hq·d]
    int Hq,
    int S,
    int splits, // ceildiv(S, 256)
    int B)
{
    using namespace skv_decode_attention_combine;
    __shared__ float scratch[32];
    const int h = blockIdx.x, b = blockIdx.y;
    bf16* out = y + ((i64)b * Hq + h) * HEAD_DIM;
    const int seq = token_seq[b];
    // seq is a batch slot, not a row: rows and slots differ when a step carries only some sequences.
    const int ctx = seq >= 0 ? min(context_len[seq], S) : 0;
    const int live = min((ctx + SPLIT - 1) / SPLIT, splits);
    if (live <= 0)
    {
        for (int i = threadIdx.x; i < HEAD_DIM; i += THREADS) out[i] = float_to_bf16(0.0f);
        return;
    }

    const float* base = partials + ((i64)b * Hq + h) * splits * (HEAD_DIM + 2);
    float m = -3.402823466e+38f;
    for (int i = threadIdx.x; i < live; i += THREADS) m = fmaxf(m, base[(i64)i * (HEAD_DIM + 2) + HEAD_DIM]);
    const float M = block_max(m, scratch);
    float l = 0.0f;
    for (int i = threadIdx.x; i < live; i += THREADS)
    {
        const float* p = base + (i64)i * (HEAD_DIM + 2) + HEAD_DIM;
        l += exp2f(p[0] - M) * p[1];
    }
    const float L = block_sum(l, scratch);
    const float inv = L > 0.0f ? 1.0f / L : 0.0f;

    for (int dim = threadIdx.x; dim < HEAD_DIM; dim += THREADS)
    {
        float acc = 0.0f;
        for (int i = 0; i < live; ++i)
        {
            const float* p = base + (i64)i * (HEAD_DIM + 2);
            acc += exp2f(p[HEAD_DIM] - M) * p[dim];
        }
        out[dim] = float_to_bf16(acc * inv);
    }
}
