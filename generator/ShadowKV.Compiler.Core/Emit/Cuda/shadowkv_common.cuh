// ---- shadowkv_common: device helpers shared by the ShadowKV kernel templates --------------------------------------
// Not a kernel template (no __global__): the emitter writes this file once, after prelude.cuh, into every .cu that
// holds a ShadowKV template. Guarded so that a second copy is harmless.
//
//  * skv_block_exclusive_scan — ordered block-wide prefix sums: the stable compactions (ids stay ascending).
//  * skv_radix_select_threshold — the kk-th largest u32 key of n keys, 8 bits per pass, shared-memory histograms.
//    top_k_chunks (k largest scores) and landmarks_select (o smallest min-cosines) both use it; "ties → lower chunk
//    id" falls out of the stable compaction that follows: of the keys equal to the threshold, the first ones in
//    index order are taken, and index order is ascending chunk-id order in both callers.
//  * ordered-key transforms, bf16 vector loads.
#ifndef SKV_COMMON_CUH
#define SKV_COMMON_CUH

namespace skv_common
{
// −∞ (no <math.h> under NVRTC without includes): masked logits and empty softmax states.
__device__ __forceinline__ float neg_inf()
{
    return __int_as_float(0xff800000);
}

// A u32 whose unsigned order is the float's order (−0 < +0; NaN above +inf, which no caller produces).
__device__ __forceinline__ u32 float_order_key(float f)
{
    u32 u = __float_as_uint(f);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

// Exclusive prefix sum of one int per thread over the whole block, in thread order; `total` gets the block's sum.
// `scratch` is 33 ints of shared memory. Every thread must call it (it synchronises); back-to-back calls are safe.
__device__ __forceinline__ int skv_block_exclusive_scan(int v, int* scratch, int& total)
{
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    int inclusive = v;
    for (int offset = 1; offset < 32; offset <<= 1)
    {
        int up = __shfl_up_sync(0xffffffffu, inclusive, offset);
        if (lane >= offset) inclusive += up;
    }
    __syncthreads(); // the previous call's readers of scratch are done
    if (lane == 31) scratch[warp] = inclusive;
    __syncthreads();
    if (warp == 0)
    {
        int t = lane < warps ? scratch[lane] : 0;
        int run = t;
        for (int offset = 1; offset < 32; offset <<= 1)
        {
            int up = __shfl_up_sync(0xffffffffu, run, offset);
            if (lane >= offset) run += up;
        }
        scratch[lane] = run - t; // exclusive prefix of the warp totals
        if (lane == 31) scratch[32] = run;
    }
    __syncthreads();
    total = scratch[32];
    return scratch[warp] + inclusive - v;
}

// Threshold for "the kk largest of n keys" (1 ≤ kk ≤ n): on return `threshold` is the kk-th largest key and `above` the
// number of keys strictly greater (above < kk ≤ above + #equal). `key(i)` gives key i (re-read on every pass: the
// callers' keys live in global memory/L2, 4 bytes each). `hist` is 256 + 2 ints of shared memory. Block-uniform.
template <typename KeyFn>
__device__ __forceinline__ void skv_radix_select_threshold(KeyFn key, int n, int kk, int* hist, u32& threshold, int& above)
{
    u32 prefix = 0, mask = 0;
    int remaining = kk; // how many keys we still need among those matching `prefix`
    above = 0;
    for (int shift = 24; shift >= 0; shift -= 8)
    {
        for (int b = threadIdx.x; b < 256; b += blockDim.x) hist[b] = 0;
        __syncthreads();
        for (int i = threadIdx.x; i < n; i += blockDim.x)
        {
            u32 kv = key(i);
            if ((kv & mask) == prefix) atomicAdd(&hist[(kv >> shift) & 255u], 1);
        }
        __syncthreads();
        if (threadIdx.x < 32)
        {
            // Lane l owns bins 255−8l … 248−8l (descending); a warp scan finds the bin where the count from the top
            // reaches `remaining`.
            int lane = threadIdx.x, own = 0;
            for (int q = 0; q < 8; ++q) own += hist[255 - 8 * lane - q];
            int run = own;
            for (int offset = 1; offset < 32; offset <<= 1)
            {
                int up = __shfl_up_sync(0xffffffffu, run, offset);
                if (lane >= offset) run += up;
            }
            int before = run - own; // keys in bins above this lane's bins
            u32 hit = __ballot_sync(0xffffffffu, run >= remaining);
            int first = __ffs(hit) - 1; // exists: the total count ≥ remaining
            if (lane == first)
            {
                int bin = 255 - 8 * lane;
                for (int q = 0; q < 8; ++q, --bin)
                {
                    int count = hist[bin];
                    if (before + count >= remaining) break;
                    before += count;
                }
                hist[256] = bin;
                hist[257] = before;
            }
        }
        __syncthreads();
        int bin = hist[256], greater = hist[257];
        __syncthreads(); // hist is cleared at the top of the next pass
        prefix |= (u32)bin << shift;
        mask |= 255u << shift;
        remaining -= greater;
        above += greater;
    }
    threshold = prefix;
}

// N consecutive bf16 → float, with the widest aligned load for N (the caller guarantees 2·N-byte alignment).
template <int N>
__device__ __forceinline__ void load_bf16_vec(const bf16* p, float* out)
{
    if constexpr (N % 8 == 0)
    {
        for (int v = 0; v < N / 8; ++v)
        {
            uint4 w = reinterpret_cast<const uint4*>(p)[v];
            u32 words[4] = {w.x, w.y, w.z, w.w};
            for (int q = 0; q < 4; ++q)
            {
                out[8 * v + 2 * q] = __uint_as_float(words[q] << 16);
                out[8 * v + 2 * q + 1] = __uint_as_float(words[q] & 0xffff0000u);
            }
        }
    }
    else if constexpr (N % 4 == 0)
    {
        for (int v = 0; v < N / 4; ++v)
        {
            uint2 w = reinterpret_cast<const uint2*>(p)[v];
            out[4 * v] = __uint_as_float(w.x << 16);
            out[4 * v + 1] = __uint_as_float(w.x & 0xffff0000u);
            out[4 * v + 2] = __uint_as_float(w.y << 16);
            out[4 * v + 3] = __uint_as_float(w.y & 0xffff0000u);
        }
    }
    else if constexpr (N % 2 == 0)
    {
        for (int v = 0; v < N / 2; ++v)
        {
            u32 w = reinterpret_cast<const u32*>(p)[v];
            out[2 * v] = __uint_as_float(w << 16);
            out[2 * v + 1] = __uint_as_float(w & 0xffff0000u);
        }
    }
    else
    {
        for (int v = 0; v < N; ++v) out[v] = bf16_to_float(p[v]);
    }
}
} // namespace skv_common

#endif // SKV_COMMON_CUH
