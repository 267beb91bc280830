// ---- rebuild_keys_rope: rebuild the missed chunks' keys from the low-rank factors, RoPE them into the work buffer --
// Op rebuild_keys_rope.
//   misses, slot_chunk_next i32 [B, Hkv, k], miss_count i32 [B, Hkv]   (selection_diff)
//   lowrank  bf16 [B, S, r]       the A factor (row = prompt position)
//   basis    f32  [B, r, D]       B factor; head h uses columns h·d … h·d+d−1
//   inv_freq f32  [d/2]
//   work_k   bf16 [B, Hkv, k·c, d]   rows slot·c+i ← rope(lowrank[s, t]·basis[s][:, h·d…], t), t = chunk·c+i
// A small GEMM per (s, h): [misses·c, r]·[r, d] on tensor cores (mma.sync m16n8k16 bf16, fp32 accumulate). A is bf16
// already; the fp32 basis is split into bf16 hi + lo (hi = bf16(x), lo = bf16(x − hi)) and both products are
// accumulated, so the basis keeps ~16 mantissa bits — the result matches an fp32 dot product to ~1e−5 relative, well
// below the bf16 rounding of the stored key. Block = 64 rows (64/c missed chunks) × d, 4 warps, warp w owns rows
// 16w … 16w+15 and all d/8 n-tiles; the whole A tile sits in shared memory, the basis is staged 16 ranks at a time
// (transposed to [e][rank], rows padded to 24 bf16: conflict-free fragment loads). Grid (⌈k/(64/c)⌉, Hkv, B); blocks
// past miss_count exit at once. RoPE (rotate-half, θ = t·inv_freq[i], cosf/sinf in fp32) in registers: column e and
// e + d/2 sit in n-tiles nt and nt + d/16 of the same thread.

namespace skv_rebuild_keys_rope
{
constexpr int kThreads = 128;
constexpr int kRows = 64;  // rows per block: 4 warps × m16
constexpr int kStage = 16; // ranks per basis stage (one mma k-step)
constexpr int kStageStride = kStage + 8;

__device__ __forceinline__ void mma_bf16_16816(float* c, u32 a0, u32 a1, u32 a2, u32 a3, u32 b0, u32 b1)
{
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                 "{%0,%1,%2,%3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}
} // namespace skv_rebuild_keys_rope

template <int HEAD_DIM, int CHUNK, int RANK>
__global__ void __launch_bounds__(skv_rebuild_keys_rope::kThreads)
SKV_KERNEL(const int* __restrict__ misses,          // [B, Hkv, k]
           const int* __restrict__ miss_count,      // [B, Hkv]
           const int* __restrict__ slot_chunk_next, // [B, Hkv, k]
           const bf16* __restrict__ lowrank,        // [B, S, r]
           const float* __restrict__ basis,         // [B, r, D]
           const float* __restrict__ inv_freq,      // [d/2]
           bf16* __restrict__ work_k,               // [B, Hkv, k·c, d]
           int Hkv, int S, int budget)              // budget = k
{
    using namespace skv_rebuild_keys_rope;
    static_assert(HEAD_DIM % 16 == 0, "n-tiles of 8 columns, and d/2 a whole number of them");
    static_assert(kRows % CHUNK == 0, "a block rebuilds whole chunks");
    static_assert(RANK % 2 == 0, "lowrank rows are copied as bf16 pairs");
    constexpr int KPAD = (RANK + 15) / 16 * 16; // rank padded to the mma k-step (zeros beyond r)
    constexpr int ASTRIDE = KPAD + 8;           // bf16; conflict-free A fragment loads for any KPAD
    constexpr int NT = HEAD_DIM / 8;
    constexpr int CPB = kRows / CHUNK;          // missed chunks per block
    __shared__ __align__(16) bf16 sa[kRows * ASTRIDE];
    __shared__ __align__(16) bf16 sbh[HEAD_DIM * kStageStride];
    __shared__ __align__(16) bf16 sbl[HEAD_DIM * kStageStride];
    __shared__ int row_pos[kRows], row_dst[kRows];

    int h = blockIdx.y, s = blockIdx.z;
    i64 head = (i64)s * Hkv + h;
    int count = min(miss_count[head], budget);
    int m0 = blockIdx.x * CPB;
    if (m0 >= count) return; // block-uniform

    if (threadIdx.x < kRows)
    {
        int rho = threadIdx.x, m = m0 + rho / CHUNK, i = rho % CHUNK;
        int pos = -1, dst = -1;
        if (m < count)
        {
            int slot = misses[head * budget + m];
            int chunk = slot >= 0 && slot < budget ? slot_chunk_next[head * budget + slot] : -1;
            if (chunk >= 0 && chunk * CHUNK + i < S)
            {
                pos = chunk * CHUNK + i;
                dst = slot * CHUNK + i;
            }
        }
        row_pos[rho] = pos;
        row_dst[rho] = dst;
    }
    __syncthreads();

    // A tile: 64 rows × KPAD bf16, zero rows for unused slots and zero columns beyond r.
    for (int w = threadIdx.x; w < kRows * (KPAD / 2); w += kThreads)
    {
        int rho = w / (KPAD / 2), q = (w % (KPAD / 2)) * 2;
        int pos = row_pos[rho];
        u32 v = 0;
        if (pos >= 0 && q < RANK) v = *reinterpret_cast<const u32*>(lowrank + ((i64)s * S + pos) * RANK + q);
        *reinterpret_cast<u32*>(&sa[rho * ASTRIDE + q]) = v;
    }

    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, g = lane >> 2, tig = lane & 3;
    float acc[NT][4];
    for (int nt = 0; nt < NT; ++nt)
        for (int x = 0; x < 4; ++x) acc[nt][x] = 0.0f;

    const float* bs = basis + (i64)s * RANK * Hkv * HEAD_DIM + (i64)h * HEAD_DIM;
    const i64 brow = (i64)Hkv * HEAD_DIM; // D
    for (int k0 = 0; k0 < KPAD; k0 += kStage)
    {
        __syncthreads(); // the previous stage's fragments are consumed (and, first time, sa is complete)
        for (int w = threadIdx.x; w < (kStage / 2) * HEAD_DIM; w += kThreads)
        {
            int qp = w / HEAD_DIM, e = w % HEAD_DIM, q = k0 + 2 * qp;
            float x0 = q < RANK ? bs[(i64)q * brow + e] : 0.0f;
            float x1 = q + 1 < RANK ? bs[(i64)(q + 1) * brow + e] : 0.0f;
            bf16 h0 = float_to_bf16(x0), h1 = float_to_bf16(x1);
            float l0 = x0 - bf16_to_float(h0), l1 = x1 - bf16_to_float(h1);
            *reinterpret_cast<u32*>(&sbh[e * kStageStride + 2 * qp]) = (u32)h0.bits | ((u32)h1.bits << 16);
            *reinterpret_cast<u32*>(&sbl[e * kStageStride + 2 * qp]) = pack_bf16x2(l0, l1);
        }
        __syncthreads();
        const bf16* ar0 = &sa[(warp * 16 + g) * ASTRIDE + k0 + 2 * tig];
        const bf16* ar1 = ar0 + 8 * ASTRIDE;
        u32 a0 = *reinterpret_cast<const u32*>(ar0), a1 = *reinterpret_cast<const u32*>(ar1);
        u32 a2 = *reinterpret_cast<const u32*>(ar0 + 8), a3 = *reinterpret_cast<const u32*>(ar1 + 8);
#pragma unroll
        for (int nt = 0; nt < NT; ++nt)
        {
            int off = (nt * 8 + g) * kStageStride + 2 * tig;
            u32 bh0 = *reinterpret_cast<const u32*>(&sbh[off]), bh1 = *reinterpret_cast<const u32*>(&sbh[off + 8]);
            u32 bl0 = *reinterpret_cast<const u32*>(&sbl[off]), bl1 = *reinterpret_cast<const u32*>(&sbl[off + 8]);
            mma_bf16_16816(acc[nt], a0, a1, a2, a3, bh0, bh1);
            mma_bf16_16816(acc[nt], a0, a1, a2, a3, bl0, bl1);
        }
    }

    // Epilogue: acc[nt][x] is row warp·16 + g + 8·(x/2), column nt·8 + 2·tig + x%2.
    bf16* wk = work_k + head * budget * CHUNK * HEAD_DIM;
#pragma unroll
    for (int half = 0; half < 2; ++half)
    {
        int rho = warp * 16 + g + 8 * half;
        int pos = row_pos[rho], dst = row_dst[rho];
        if (pos < 0) continue;
        bf16* out = wk + (i64)dst * HEAD_DIM;
#pragma unroll
        for (int nt = 0; nt < NT / 2; ++nt)
        {
            int e = nt * 8 + 2 * tig;
            float r1[2], r2[2];
            for (int x = 0; x < 2; ++x)
            {
                float th = (float)pos * inv_freq[e + x];
                float cs = cosf(th), sn = sinf(th);
                float x1 = acc[nt][2 * half + x], x2 = acc[nt + NT / 2][2 * half + x];
                r1[x] = x1 * cs - x2 * sn;
                r2[x] = x2 * cs + x1 * sn;
            }
            *reinterpret_cast<u32*>(out + e) = pack_bf16x2(r1[0], r1[1]);
            *reinterpret_cast<u32*>(out + e + HEAD_DIM / 2) = pack_bf16x2(r2[0], r2[1]);
        }
    }
}
