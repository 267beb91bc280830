// ---- sample_top_p ------------------------------------------------------------------------------------------------
// Temperature / top-k / top-p sampling (an engine kernel, not a plan op), Hugging Face's warper order:
//   z = logits / temperature; keep the top_k largest z (ties at the k-th value kept); renormalise; keep the smallest
//   set of the largest z whose probability mass reaches top_p (ties kept); draw by inverse CDF in token-id order
//   with the row's uniform number u ∈ [0, 1).
//   logits [B, vocab] f32, temperature [B] f32, top_k [B] i32 (≤ 0 or ≥ vocab: off), top_p [B] f32 (outside (0, 1):
//   off), uniform [B] f32 → tokens [B] i32.
//   temperature ≤ 0 (or NaN), top_k == 1, or a row without a finite maximum → greedy (argmax, ties → lowest id).
// Launch: grid (B), block 1024 — one block per row. Sort-free: both cut-offs are found by building the threshold key
// bit by bit from the top (32 passes over the row each; the row stays in L2): for top-k, the largest key τ with
// count(key ≥ τ) ≥ k is exactly the k-th largest; for top-p, the largest τ with mass(key ≥ τ) ≥ top_p·Z.
// The passes reduce in a fixed order, so the result is deterministic for a given u. Keys map floats to u32 so that
// unsigned order is float order.
// Precision: f32 (probabilities as __expf(z − max)); counts are exact in f32 (< 2^24).

namespace skv_sample_top_p
{
constexpr int THREADS = 1024;

__device__ __forceinline__ float neg_inf() { return __int_as_float(0xff800000); }

__device__ __forceinline__ u32 order_key(float f)
{
    const u32 u = __float_as_uint(f);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

// z = logit / temperature with NaN → −inf.
__device__ __forceinline__ float scaled(float logit, float inv_temperature)
{
    const float z = logit * inv_temperature;
    return z == z ? z : neg_inf();
}

__device__ __forceinline__ bool better(float v, int i, float best, int best_i) { return v > best || (v == best && i < best_i); }

// Block-wide argmax (ties → lowest id) of the NaN-cleaned row; every thread gets the answer.
__device__ __forceinline__ int block_argmax(const float* row, int vocab, float* s_value, int* s_index)
{
    float best = neg_inf();
    int best_i = 0x7fffffff;
    for (int i = threadIdx.x; i < vocab; i += THREADS)
    {
        const float v = scaled(row[i], 1.0f);
        if (better(v, i, best, best_i))
        {
            best = v;
            best_i = i;
        }
    }
    for (int offset = 16; offset > 0; offset >>= 1)
    {
        const float v = __shfl_xor_sync(0xffffffffu, best, offset);
        const int i = __shfl_xor_sync(0xffffffffu, best_i, offset);
        if (better(v, i, best, best_i))
        {
            best = v;
            best_i = i;
        }
    }
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    __syncthreads();
    if (lane == 0)
    {
        s_value[warp] = best;
        s_index[warp] = best_i;
    }
    __syncthreads();
    best = s_value[lane];
    best_i = s_index[lane];
    for (int offset = 16; offset > 0; offset >>= 1)
    {
        const float v = __shfl_xor_sync(0xffffffffu, best, offset);
        const int i = __shfl_xor_sync(0xffffffffu, best_i, offset);
        if (better(v, i, best, best_i))
        {
            best = v;
            best_i = i;
        }
    }
    return best_i == 0x7fffffff ? 0 : best_i;
}

// Exclusive prefix sum over the block (1024 threads = 32 warps); `scratch` holds 32 floats.
__device__ __forceinline__ float block_exclusive_scan(float v, float* scratch)
{
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    float inclusive = v;
    for (int offset = 1; offset < 32; offset <<= 1)
    {
        const float up = __shfl_up_sync(0xffffffffu, inclusive, offset);
        if (lane >= offset) inclusive += up;
    }
    __syncthreads();
    if (lane == 31) scratch[warp] = inclusive;
    __syncthreads();
    float warp_total = scratch[lane];
    float warp_inclusive = warp_total;
    for (int offset = 1; offset < 32; offset <<= 1)
    {
        const float up = __shfl_up_sync(0xffffffffu, warp_inclusive, offset);
        if (lane >= offset) warp_inclusive += up;
    }
    const float warp_exclusive = __shfl_sync(0xffffffffu, warp_inclusive - warp_total, warp);
    return warp_exclusive + inclusive - v;
}
} // namespace skv_sample_top_p

__global__ void __launch_bounds__(1024) SKV_KERNEL(
    const float* __restrict__ logits,      // [B, vocab]
    const float* __restrict__ temperature, // [B]
    const int* __restrict__ top_k,         // [B]
    const float* __restrict__ top_p,       // [B]
    const float* __restrict__ uniform,     // [B]
    int* __restrict__ tokens,              // [B]
    int vocab)
{
    using namespace skv_sample_top_p;
    __shared__ float scratch[32];
    __shared__ float s_value[32];
    __shared__ int s_index[32];
    __shared__ int s_choice;

    const int b = blockIdx.x;
    const float* row = logits + (i64)b * vocab;
    const float temp = temperature[b];
    const int k = top_k[b];
    if (!(temp > 0.0f) || k == 1)
    {
        const int best = block_argmax(row, vocab, s_value, s_index);
        if (threadIdx.x == 0) tokens[b] = best;
        return;
    }
    const float inv_t = 1.0f / temp;

    float m = neg_inf();
    for (int i = threadIdx.x; i < vocab; i += THREADS) m = fmaxf(m, scaled(row[i], inv_t));
    const float z_max = block_max(m, scratch);
    if (!(z_max > neg_inf() && z_max < -neg_inf())) // all −inf, or +inf present: probabilities undefined
    {
        const int best = block_argmax(row, vocab, s_value, s_index);
        if (threadIdx.x == 0) tokens[b] = best;
        return;
    }

    // Top-k cut-off: the largest key τ with count(key ≥ τ) ≥ k, built from the most significant bit down.
    u32 tau = 0;
    if (k > 0 && k < vocab)
    {
        for (int bit = 31; bit >= 0; --bit)
        {
            const u32 candidate = tau | (1u << bit);
            float count = 0.0f;
            for (int i = threadIdx.x; i < vocab; i += THREADS) count += order_key(scaled(row[i], inv_t)) >= candidate ? 1.0f : 0.0f;
            if (block_sum(count, scratch) >= (float)k) tau = candidate;
        }
    }

    // Top-p cut-off over the top-k survivors: the largest τ' ≥ τ with mass(key ≥ τ') ≥ top_p · Z.
    const float p = top_p[b];
    if (p > 0.0f && p < 1.0f)
    {
        float mass = 0.0f;
        for (int i = threadIdx.x; i < vocab; i += THREADS)
        {
            const float z = scaled(row[i], inv_t);
            mass += order_key(z) >= tau ? __expf(z - z_max) : 0.0f;
        }
        const float target = p * block_sum(mass, scratch);
        u32 prefix = 0;
        for (int bit = 31; bit >= 0; --bit)
        {
            const u32 candidate = prefix | (1u << bit);
            const u32 cut = max(candidate, tau);
            float part = 0.0f;
            for (int i = threadIdx.x; i < vocab; i += THREADS)
            {
                const float z = scaled(row[i], inv_t);
                part += order_key(z) >= cut ? __expf(z - z_max) : 0.0f;
            }
            // At cut == tau this is the same sum, in the same order, as `target`'s: τ itself always qualifies.
            if (block_sum(part, scratch) >= target) prefix = candidate;
        }
        tau = max(prefix, tau);
    }

    // Inverse CDF in id order: thread i owns ids [i·per, (i+1)·per); an exclusive scan of the owned masses finds the
    // thread whose interval holds u·Z, which then walks its ids.
    const int per = (vocab + THREADS - 1) / THREADS;
    const int lo = min(threadIdx.x * per, vocab), hi = min(lo + per, vocab);
    float owned = 0.0f;
    int last_kept = -1;
    for (int i = lo; i < hi; ++i)
    {
        const float z = scaled(row[i], inv_t);
        if (order_key(z) >= tau)
        {
            owned += __expf(z - z_max);
            last_kept = i;
        }
    }
    const float total = block_sum(owned, scratch);
    const int last_overall = (int)block_max((float)last_kept, scratch); // ids < 2^24: exact in f32
    const float before = block_exclusive_scan(owned, scratch);
    const float u = fminf(fmaxf(uniform[b], 0.0f), 0.99999994f);
    const float target = u * total;

    if (threadIdx.x == 0) s_choice = 0x7fffffff;
    __syncthreads();
    if (owned > 0.0f && before <= target && target < before + owned)
    {
        float running = before;
        int choice = last_kept; // rounding left u·Z just past this interval's own running sum
        for (int i = lo; i < hi; ++i)
        {
            const float z = scaled(row[i], inv_t);
            if (order_key(z) >= tau)
            {
                running += __expf(z - z_max);
                if (running > target)
                {
                    choice = i;
                    break;
                }
            }
        }
        atomicMin(&s_choice, choice);
    }
    __syncthreads();
    if (threadIdx.x == 0) tokens[b] = s_choice != 0x7fffffff ? s_choice : max(last_overall, 0);
}
