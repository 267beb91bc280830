// ---- sparse_attention: one decode query per sequence over [local | outliers | working slots | generated] --------
// requires: shadowkv_common.cuh
// Op sparse_attention, pass 1 of 2 (sparse_attention_combine merges the splits).
//   q_rot            bf16 [B, Hq·d]               row s = sequence s's decode query (post-RoPE)
//   local_k/v        bf16 [B, Hkv, (nloc+1)·c, d] first local_count[s] rows
//   outlier_k/v      bf16 [B, Hkv, o·c, d]        first min(o, n_c)·c rows, n_c = max(0, ⌊P/c⌋ − nloc), P = prompt_len[s]
//   work_k/v         bf16 [B, Hkv, k·c, d]        slot j's c rows, for slots with slot_chunk_next[s, h, j] ≥ 0
//   gen_k/v          bf16 [B, Hkv, max_new, d]    first context_len[s] − P rows (the current token included)
//   partials         f32  scratch: [B, Hq, splits, d] unnormalised outputs, then [B, Hq, splits, 2] (max, sum)
// The four regions are laid end to end as one virtual key range of capacity N = (nloc+1)·c + o·c + k·c + max_new;
// split z (grid.x, splits = ⌈N/128⌉) takes keys 128z … 128z+127 and skips the invalid ones (−∞ logit), so one launch
// shape serves every sequence of a ragged batch and every step (graph-capturable). GQA: the block serves KV head h
// for its G query heads, so each key/value row is read once for all G. 4 warps × 32 keys: lane j scores key j for
// all G heads (16-byte loads along d; q in shared memory as broadcasts), the warp's softmax statistics come from
// warp reductions, then P·V walks the valid keys with lanes along d. Warps then merge in shared memory.
// Scale 1/√d folded into q with log2(e) (exp2f), fp32 throughout; outputs leave the combine as bf16.

namespace skv_sparse_attention
{
constexpr int kThreads = 128;
constexpr int kWarps = kThreads / 32;
constexpr int kKeysPerSplit = kThreads; // one key per thread
constexpr float kLog2e = 1.4426950408889634f;
} // namespace skv_sparse_attention

template <int HEAD_DIM, int GROUP, int CHUNK>
__global__ void __launch_bounds__(skv_sparse_attention::kThreads)
SKV_KERNEL(const bf16* __restrict__ q_rot,           // [B, Hq·d]
           const bf16* __restrict__ local_k,         // [B, Hkv, (nloc+1)·c, d]
           const bf16* __restrict__ local_v,         // [B, Hkv, (nloc+1)·c, d]
           const int* __restrict__ local_count,      // [B]
           const bf16* __restrict__ outlier_k,       // [B, Hkv, o·c, d]
           const bf16* __restrict__ outlier_v,       // [B, Hkv, o·c, d]
           const bf16* __restrict__ work_k,          // [B, Hkv, k·c, d]
           const bf16* __restrict__ work_v,          // [B, Hkv, k·c, d]
           const int* __restrict__ slot_chunk_next,  // [B, Hkv, k]
           const bf16* __restrict__ gen_k,           // [B, Hkv, max_new, d]
           const bf16* __restrict__ gen_v,           // [B, Hkv, max_new, d]
           const int* __restrict__ context_len,      // [B]
           const int* __restrict__ prompt_len,       // [B]
           float* __restrict__ partials,             // [B, Hq, splits, d] then [B, Hq, splits, 2]
           int B, int Hkv, int S, int outliers, int nloc, int budget, int max_new, int splits)
{
    using namespace skv_sparse_attention;
    static_assert(HEAD_DIM % 32 == 0, "lanes along d in P·V; 16-byte loads along d in q·k");
    constexpr int VEC = HEAD_DIM / 32;
    __shared__ __align__(16) float sq[GROUP][HEAD_DIM];
    __shared__ float wm[kWarps][GROUP], wl[kWarps][GROUP];
    __shared__ float wo[kWarps][GROUP][HEAD_DIM];

    int z = blockIdx.x, h = blockIdx.y, s = blockIdx.z;
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    i64 head = (i64)s * Hkv + h;
    int Hq = Hkv * GROUP;

    float scale = kLog2e / sqrtf((float)HEAD_DIM);
    for (int w = threadIdx.x; w < GROUP * HEAD_DIM; w += kThreads)
        sq[w / HEAD_DIM][w % HEAD_DIM] = bf16_to_float(q_rot[((i64)s * Hq + (i64)h * GROUP) * HEAD_DIM + w]) * scale;

    // This lane's key: resolve the virtual index into a region row.
    int P = min(max(prompt_len[s], 0), S);
    int n_out = min(max(outliers, 0), max(P / CHUNK - nloc, 0));
    int local_cap = (nloc + 1) * CHUNK, outlier_cap = outliers * CHUNK, work_cap = budget * CHUNK;
    int n_local = min(max(local_count[s], 0), local_cap);
    int n_gen = min(max(context_len[s] - P, 0), max_new);
    int vi = z * kKeysPerSplit + threadIdx.x;
    const bf16* kp = nullptr;
    const bf16* vp = nullptr;
    if (vi < local_cap)
    {
        if (vi < n_local)
        {
            kp = local_k + (head * local_cap + vi) * HEAD_DIM;
            vp = local_v + (head * local_cap + vi) * HEAD_DIM;
        }
    }
    else if ((vi -= local_cap) < outlier_cap)
    {
        if (vi < n_out * CHUNK)
        {
            kp = outlier_k + (head * outlier_cap + vi) * HEAD_DIM;
            vp = outlier_v + (head * outlier_cap + vi) * HEAD_DIM;
        }
    }
    else if ((vi -= outlier_cap) < work_cap)
    {
        if (slot_chunk_next[head * budget + vi / CHUNK] >= 0)
        {
            kp = work_k + (head * work_cap + vi) * HEAD_DIM;
            vp = work_v + (head * work_cap + vi) * HEAD_DIM;
        }
    }
    else if ((vi -= work_cap) < n_gen)
    {
        kp = gen_k + (head * max_new + vi) * HEAD_DIM;
        vp = gen_v + (head * max_new + vi) * HEAD_DIM;
    }
    __syncthreads(); // sq complete

    // q·k for this lane's key, all G heads (base-2 logits).
    float logit[GROUP];
    for (int g = 0; g < GROUP; ++g) logit[g] = skv_common::neg_inf();
    if (kp != nullptr)
    {
        float dot[GROUP] = {};
        for (int e0 = 0; e0 < HEAD_DIM; e0 += 8)
        {
            float x[8];
            skv_common::load_bf16_vec<8>(kp + e0, x);
            for (int g = 0; g < GROUP; ++g)
            {
                float4 qa = *reinterpret_cast<const float4*>(&sq[g][e0]);
                float4 qb = *reinterpret_cast<const float4*>(&sq[g][e0 + 4]);
                dot[g] = fmaf(qa.x, x[0], dot[g]);
                dot[g] = fmaf(qa.y, x[1], dot[g]);
                dot[g] = fmaf(qa.z, x[2], dot[g]);
                dot[g] = fmaf(qa.w, x[3], dot[g]);
                dot[g] = fmaf(qb.x, x[4], dot[g]);
                dot[g] = fmaf(qb.y, x[5], dot[g]);
                dot[g] = fmaf(qb.z, x[6], dot[g]);
                dot[g] = fmaf(qb.w, x[7], dot[g]);
            }
        }
        for (int g = 0; g < GROUP; ++g) logit[g] = dot[g];
    }

    // The warp's softmax statistics and P·V (lanes along d).
    u32 valid = __ballot_sync(0xffffffffu, kp != nullptr);
    float m[GROUP], p[GROUP], acc[GROUP][VEC];
    for (int g = 0; g < GROUP; ++g)
    {
        m[g] = warp_max(logit[g]); // −∞ iff the warp has no valid key
        p[g] = valid ? exp2f(logit[g] - m[g]) : 0.0f;
        for (int e = 0; e < VEC; ++e) acc[g][e] = 0.0f;
    }
    u32 rest = valid;
    while (rest) // warp-uniform
    {
        int j = __ffs(rest) - 1;
        rest &= rest - 1;
        const bf16* row = reinterpret_cast<const bf16*>(__shfl_sync(0xffffffffu, (unsigned long long)vp, j));
        float x[VEC];
        skv_common::load_bf16_vec<VEC>(row + lane * VEC, x);
        for (int g = 0; g < GROUP; ++g)
        {
            float pj = __shfl_sync(0xffffffffu, p[g], j);
            for (int e = 0; e < VEC; ++e) acc[g][e] = fmaf(pj, x[e], acc[g][e]);
        }
    }
    for (int g = 0; g < GROUP; ++g)
    {
        float l = warp_sum(p[g]);
        if (lane == 0)
        {
            wm[warp][g] = m[g];
            wl[warp][g] = l;
        }
        for (int e = 0; e < VEC; ++e) wo[warp][g][lane * VEC + e] = acc[g][e];
    }
    __syncthreads();

    // Merge the warps; write this split's (unnormalised output, max, sum) per query head.
    float* part_o = partials;
    float* part_ml = partials + (i64)B * Hq * splits * HEAD_DIM;
    for (int w = threadIdx.x; w < GROUP * HEAD_DIM; w += kThreads)
    {
        int g = w / HEAD_DIM, e = w % HEAD_DIM;
        float M = wm[0][g];
        for (int x = 1; x < kWarps; ++x) M = fmaxf(M, wm[x][g]);
        float O = 0.0f, L = 0.0f;
        if (M != skv_common::neg_inf())
            for (int x = 0; x < kWarps; ++x)
            {
                float f = exp2f(wm[x][g] - M); // 0 for an empty warp
                O = fmaf(f, wo[x][g][e], O);
                L = fmaf(f, wl[x][g], L);
            }
        i64 row = ((i64)s * Hq + (i64)h * GROUP + g) * splits + z;
        part_o[row * HEAD_DIM + e] = O;
        if (e == 0)
        {
            part_ml[row * 2] = M;
            part_ml[row * 2 + 1] = L;
        }
    }
}
