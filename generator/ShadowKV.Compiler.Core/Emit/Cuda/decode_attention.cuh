// ---- decode_attention (split-K partials; decode_attention_combine merges them) -------------------------------------
// Op decode_attention, first kernel: one query per sequence over k/v_cache[s, :, 0..context_len[s]), scale 1/√d.
//   q_rot [B, Hq·d] bf16 (row b is the step's token of slot s = token_seq[b]), k_cache/v_cache [B, Hkv, S, d] bf16,
//   token_seq [B] i32, context_len [B] i32 (cache length after this step, indexed by slot)
//   → partials [B, Hq, ceildiv(S, 256), d + 2] f32 (scratch decode_partials): per split, the unnormalised output
//     Σ 2^(x_j − m)·v_j (d values), then m (row max of x = q·k·log2(e)/√d) and l = Σ 2^(x_j − m).
// Launch: grid (ceildiv(S, 256), Hkv, B), block 128 (4 warps). Flash-decoding: a block owns one split of 256 keys of
// one (row, KV head) and all G query heads of that KV head, so each K/V row is read from HBM once per group. Splits
// at or past context_len exit at once (the combine reads only the live ones), so one grid serves every context length.
// Decode is bandwidth-bound: K/V rows are read with 16-byte vector loads, LPK lanes per key row (d/8 up to 32), and
// the G dot products are f32 FMAs; tensor cores would pay off only for G ≥ 16.
// Phases: (1) scores x[g][j] into shared memory, lanes of a key reduced with shuffles; (2) per head g (one warp each)
// max, exp2 and sum over the split; (3) Σ p·v with the same lane map, reduced over lanes, then over warps in shared.
// Precision: bf16 inputs, f32 everywhere else (scores, softmax, accumulation, partials).

namespace skv_decode_attention
{
constexpr int SPLIT = 256; // keys per block; the catalog's ceildiv(S, 256) and the combine kernel use the same value
constexpr int WARPS = 4;
constexpr int THREADS = 128;
constexpr float LOG2E = 1.4426950408889634f;

__device__ __forceinline__ float neg_inf() { return __int_as_float(0xff800000); }

// How a key row of HEAD_DIM bf16 is spread over lanes: VEC elements per load (16 B when d % 8 == 0), CHUNKS loads
// per row, LPK lanes per key (a power of two ≤ 32, so the xor-shuffle reduction stays inside the key's lanes), each
// lane covering PER_LANE chunks (the last may be past the row for d not a multiple of VEC·LPK).
template <int HEAD_DIM>
struct Map
{
    static constexpr int VEC = HEAD_DIM % 8 == 0 ? 8 : HEAD_DIM % 4 == 0 ? 4 : HEAD_DIM % 2 == 0 ? 2 : 1;
    static constexpr int CHUNKS = HEAD_DIM / VEC;
    static constexpr int LPK = CHUNKS >= 32 ? 32 : CHUNKS >= 16 ? 16 : CHUNKS >= 8 ? 8 : CHUNKS >= 4 ? 4 : CHUNKS >= 2 ? 2 : 1;
    static constexpr int KPW = 32 / LPK; // keys per warp step
    static constexpr int PER_LANE = (CHUNKS + LPK - 1) / LPK;
};

template <int VEC>
__device__ __forceinline__ void load_bf16(float (&out)[VEC], const bf16* p)
{
    if constexpr (VEC == 8)
    {
        const uint4 w = *reinterpret_cast<const uint4*>(p);
        const u32 words[4] = {w.x, w.y, w.z, w.w};
#pragma unroll
        for (int i = 0; i < 4; ++i)
        {
            out[2 * i] = __uint_as_float(words[i] << 16);
            out[2 * i + 1] = __uint_as_float(words[i] & 0xffff0000u);
        }
    }
    else if constexpr (VEC == 4)
    {
        const uint2 w = *reinterpret_cast<const uint2*>(p);
        out[0] = __uint_as_float(w.x << 16);
        out[1] = __uint_as_float(w.x & 0xffff0000u);
        out[2] = __uint_as_float(w.y << 16);
        out[3] = __uint_as_float(w.y & 0xffff0000u);
    }
    else
    {
#pragma unroll
        for (int i = 0; i < VEC; ++i) out[i] = bf16_to_float(p[i]);
    }
}
} // namespace skv_decode_attention

template <int HEAD_DIM, int GROUP>
__global__ void __launch_bounds__(128) SKV_KERNEL(
    const bf16* __restrict__ q_rot,      // [B, Hq·d]
    const bf16* __restrict__ k_cache,    // [B, Hkv, S, d]
    const bf16* __restrict__ v_cache,    // [B, Hkv, S, d]
    const int* __restrict__ token_seq,   // [B]
    const int* __restrict__ context_len, // [B]
    float* __restrict__ partials,        // [B, Hq, ceildiv(S, 256), d + 2]
    int Hkv,
    int S,
    int B)
{
    using namespace skv_decode_attention;
    using M = Map<HEAD_DIM>;
    constexpr int VEC = M::VEC, LPK = M::LPK, KPW = M::KPW, PER_LANE = M::PER_LANE, CHUNKS = M::CHUNKS;
    __shared__ float s_p[GROUP][SPLIT];              // scores, then probabilities
    __shared__ float s_ml[GROUP][2];                 // (m, l) per head
    __shared__ float s_acc[WARPS][GROUP][HEAD_DIM];  // per-warp Σ p·v

    const int split = blockIdx.x, kv_head = blockIdx.y, b = blockIdx.z;
    const int seq = token_seq[b];
    if (seq < 0 || seq >= B) return; // B = the cache's batch slots (rows may be fewer)
    const int ctx = min(context_len[seq], S);
    const int k0 = split * SPLIT;
    if (k0 >= ctx) return; // uniform per block: nothing to attend in this split
    const int n = min(SPLIT, ctx - k0);

    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int lane_key = lane / LPK, lane_chunk = lane % LPK;
    const int Hq = Hkv * GROUP;
    const float scale_log2 = LOG2E / sqrtf((float)HEAD_DIM);

    // This lane's slices of the G query rows, pre-scaled into the log2 domain.
    float q[GROUP][PER_LANE][VEC];
#pragma unroll
    for (int gi = 0; gi < GROUP; ++gi)
    {
        const bf16* q_row = q_rot + ((i64)b * Hq + kv_head * GROUP + gi) * HEAD_DIM;
#pragma unroll
        for (int pc = 0; pc < PER_LANE; ++pc)
        {
            const int chunk = lane_chunk + pc * LPK;
            if (chunk < CHUNKS)
            {
                load_bf16<VEC>(q[gi][pc], q_row + chunk * VEC);
#pragma unroll
                for (int e = 0; e < VEC; ++e) q[gi][pc][e] *= scale_log2;
            }
            else
            {
#pragma unroll
                for (int e = 0; e < VEC; ++e) q[gi][pc][e] = 0.0f;
            }
        }
    }

    const i64 head_offset = ((i64)seq * Hkv + kv_head) * S * HEAD_DIM;
    const bf16* k_base = k_cache + head_offset + (i64)k0 * HEAD_DIM;
    const bf16* v_base = v_cache + head_offset + (i64)k0 * HEAD_DIM;

    // (1) scores. The loop bound is warp-uniform (base, not base + lane_key) so every lane reaches the shuffles.
    for (int base = warp * KPW; base < n; base += WARPS * KPW)
    {
        const int j = base + lane_key;
        float dot[GROUP];
#pragma unroll
        for (int gi = 0; gi < GROUP; ++gi) dot[gi] = 0.0f;
        if (j < n)
        {
#pragma unroll
            for (int pc = 0; pc < PER_LANE; ++pc)
            {
                const int chunk = lane_chunk + pc * LPK;
                if (chunk < CHUNKS)
                {
                    float kv[VEC];
                    load_bf16<VEC>(kv, k_base + (i64)j * HEAD_DIM + chunk * VEC);
#pragma unroll
                    for (int gi = 0; gi < GROUP; ++gi)
#pragma unroll
                        for (int e = 0; e < VEC; ++e) dot[gi] += q[gi][pc][e] * kv[e];
                }
            }
        }
#pragma unroll
        for (int gi = 0; gi < GROUP; ++gi)
        {
#pragma unroll
            for (int offset = LPK / 2; offset > 0; offset >>= 1) dot[gi] += __shfl_xor_sync(0xffffffffu, dot[gi], offset);
            if (j < n && lane_chunk == 0) s_p[gi][j] = dot[gi];
        }
    }
    __syncthreads();

    // (2) softmax statistics of the split, one warp per query head.
    for (int gi = warp; gi < GROUP; gi += WARPS)
    {
        float m = neg_inf();
        for (int j = lane; j < n; j += 32) m = fmaxf(m, s_p[gi][j]);
        m = warp_max(m);
        float l = 0.0f;
        for (int j = lane; j < n; j += 32)
        {
            const float p = exp2f(s_p[gi][j] - m);
            s_p[gi][j] = p;
            l += p;
        }
        l = warp_sum(l);
        if (lane == 0)
        {
            s_ml[gi][0] = m;
            s_ml[gi][1] = l;
        }
    }
    __syncthreads();

    // (3) Σ p·v: the same lane ↔ (key, chunk) map as (1); no shuffles inside, so lanes may drop out at the tail.
    float acc[GROUP][PER_LANE][VEC];
#pragma unroll
    for (int gi = 0; gi < GROUP; ++gi)
#pragma unroll
        for (int pc = 0; pc < PER_LANE; ++pc)
#pragma unroll
            for (int e = 0; e < VEC; ++e) acc[gi][pc][e] = 0.0f;
    for (int j = warp * KPW + lane_key; j < n; j += WARPS * KPW)
    {
#pragma unroll
        for (int pc = 0; pc < PER_LANE; ++pc)
        {
            const int chunk = lane_chunk + pc * LPK;
            if (chunk < CHUNKS)
            {
                float vv[VEC];
                load_bf16<VEC>(vv, v_base + (i64)j * HEAD_DIM + chunk * VEC);
#pragma unroll
                for (int gi = 0; gi < GROUP; ++gi)
                {
                    const float p = s_p[gi][j];
#pragma unroll
                    for (int e = 0; e < VEC; ++e) acc[gi][pc][e] += p * vv[e];
                }
            }
        }
    }
    // Lanes lane_chunk, lane_chunk + LPK, … hold the same dims for different keys: fold them onto lanes 0..LPK−1.
#pragma unroll
    for (int gi = 0; gi < GROUP; ++gi)
#pragma unroll
        for (int pc = 0; pc < PER_LANE; ++pc)
#pragma unroll
            for (int e = 0; e < VEC; ++e)
#pragma unroll
                for (int offset = LPK; offset < 32; offset <<= 1)
                    acc[gi][pc][e] += __shfl_xor_sync(0xffffffffu, acc[gi][pc][e], offset);
    if (lane_key == 0)
    {
#pragma unroll
        for (int gi = 0; gi < GROUP; ++gi)
#pragma unroll
            for (int pc = 0; pc < PER_LANE; ++pc)
            {
                const int chunk = lane_chunk + pc * LPK;
                if (chunk < CHUNKS)
#pragma unroll
                    for (int e = 0; e < VEC; ++e) s_acc[warp][gi][chunk * VEC + e] = acc[gi][pc][e];
            }
    }
    __syncthreads();

    const int splits = gridDim.x;
    for (int i = threadIdx.x; i < GROUP * HEAD_DIM; i += THREADS)
    {
        const int gi = i / HEAD_DIM, dim = i % HEAD_DIM;
        float sum = 0.0f;
#pragma unroll
        for (int w = 0; w < WARPS; ++w) sum += s_acc[w][gi][dim];
        const int h = kv_head * GROUP + gi;
        partials[(((i64)b * Hq + h) * splits + split) * (HEAD_DIM + 2) + dim] = sum;
    }
    if (threadIdx.x < GROUP)
    {
        const int h = kv_head * GROUP + threadIdx.x;
        float* ml = partials + (((i64)b * Hq + h) * splits + split) * (HEAD_DIM + 2) + HEAD_DIM;
        ml[0] = s_ml[threadIdx.x][0];
        ml[1] = s_ml[threadIdx.x][1];
    }
}
