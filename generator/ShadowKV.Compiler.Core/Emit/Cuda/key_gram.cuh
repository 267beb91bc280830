// ---- key_gram: per-split partial Gram matrices of the pre-RoPE keys ----------------------------------------------
// Op key_gram, pass 1 of 2 (key_gram_reduce sums the splits).
//   k        f32 [T, D]                pre-RoPE keys of the step's tokens, all KV heads side by side (D = Hkv·d)
//   token_seq i32 [T]                  batch slot of each token (tokens of one sequence need not be contiguous)
//   partials f32 [SPLITS, B, D, D]     scratch; partials[z, s] = Σ over the split's rows t of sequence s of k[t]ᵀ·k[t]
// Gram matrices are symmetric, so only the 64×64 output tiles with tile_row ≤ tile_col are computed (the reduce
// mirrors them): grid.x enumerates those nt·(nt+1)/2 tiles (nt = ⌈D/64⌉), grid.y the SPLITS row splits, grid.z the
// sequence. Split z takes the 64-row units u = z, z+SPLITS, … of k (interleaved, so every split of a sequence gets a
// fair share of its rows wherever they sit in T); a unit with no row of this sequence is skipped after one check.
// Deterministic: no atomics, a fixed summation order (rows ascending within a split, splits ascending in the reduce).
// 256 threads, 4×4 outputs each; rows are staged 16 at a time in shared memory (2 × 16×64 f32 = 8 KiB).
// Precision: fp32 FMA throughout (the eigensolver's input; tensor-core TF32 would cost the top eigenvectors accuracy).

namespace skv_key_gram
{
constexpr int kThreads = 256;
constexpr int kTile = 64;  // output tile edge
constexpr int kRows = 16;  // rows staged per step
constexpr int kUnit = 64;  // rows per interleaving unit
} // namespace skv_key_gram

template <int HEAD_DIM>
__global__ void __launch_bounds__(skv_key_gram::kThreads)
SKV_KERNEL(const float* __restrict__ k,          // [T, D]
           const int* __restrict__ token_seq,    // [T]
           float* __restrict__ partials,         // [SPLITS, B, D, D] (tiles with tile_row ≤ tile_col only)
           int T, int B, int D, int splits)
{
    using namespace skv_key_gram;
    static_assert(HEAD_DIM % 32 == 0, "D = Hkv*d is a multiple of 32, so float4 rows never straddle the edge");
    __shared__ __align__(16) float sa[kRows][kTile];
    __shared__ __align__(16) float sb[kRows][kTile];

    // blockIdx.x → (ti, tj), ti ≤ tj, row by row of the upper triangle.
    int nt = (D + kTile - 1) / kTile;
    int ti = 0, rest = blockIdx.x;
    while (rest >= nt - ti)
    {
        rest -= nt - ti;
        ++ti;
    }
    int tj = ti + rest;
    int split = blockIdx.y, s = blockIdx.z;
    int i0 = ti * kTile, j0 = tj * kTile;

    int tx = threadIdx.x & 15, ty = threadIdx.x >> 4; // thread owns rows i0+4ty…, cols j0+4tx…
    float acc[4][4] = {};

    int units = (T + kUnit - 1) / kUnit;
    for (int u = split; u < units; u += splits)
    {
        int r0 = u * kUnit;
        int mine = threadIdx.x < kUnit && r0 + (int)threadIdx.x < T && token_seq[r0 + threadIdx.x] == s;
        if (!__syncthreads_or(mine)) continue; // block-uniform
        for (int sub = 0; sub < kUnit; sub += kRows)
        {
            // 16 rows × 64 columns per operand = 256 float4: one per thread per operand.
            int row = threadIdx.x >> 4, col = (threadIdx.x & 15) * 4;
            int t = r0 + sub + row;
            bool take = t < T && token_seq[t] == s;
            float4 va = make_float4(0.f, 0.f, 0.f, 0.f), vb = va;
            if (take && i0 + col < D) va = *reinterpret_cast<const float4*>(k + (i64)t * D + i0 + col);
            if (take && j0 + col < D) vb = *reinterpret_cast<const float4*>(k + (i64)t * D + j0 + col);
            *reinterpret_cast<float4*>(&sa[row][col]) = va;
            *reinterpret_cast<float4*>(&sb[row][col]) = vb;
            __syncthreads();
#pragma unroll
            for (int q = 0; q < kRows; ++q)
            {
                float4 a = *reinterpret_cast<const float4*>(&sa[q][4 * ty]);
                float4 b = *reinterpret_cast<const float4*>(&sb[q][4 * tx]);
                float av[4] = {a.x, a.y, a.z, a.w}, bv[4] = {b.x, b.y, b.z, b.w};
#pragma unroll
                for (int x = 0; x < 4; ++x)
#pragma unroll
                    for (int y = 0; y < 4; ++y) acc[x][y] = fmaf(av[x], bv[y], acc[x][y]);
            }
            __syncthreads();
        }
    }

    float* out = partials + ((i64)split * B + s) * D * D;
    for (int x = 0; x < 4; ++x)
    {
        int i = i0 + 4 * ty + x;
        if (i >= D) break;
        for (int y = 0; y < 4; ++y)
        {
            int j = j0 + 4 * tx + y;
            if (j < D) out[(i64)i * D + j] = acc[x][y];
        }
    }
}
