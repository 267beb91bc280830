// ---- key_projection: the A factor, lowrank[s, pos] = K[t]·basis[s]ᵀ ----------------------------------------------
// Op key_projection.
//   k         f32  [T, D]      pre-RoPE keys of the step's tokens
//   basis     f32  [B, r, D]   top-r eigenvectors of sequence s as rows
//   token_seq i32  [T], positions i32 [T]
//   lowrank   bf16 [B, S, r]   lowrank[s, positions[t], j] = Σ_i k[t, i]·basis[s, j, i]   (rows with pos ∉ [0, S) dropped)
// A tiled GEMM per sequence: block = 32 tokens × 64 ranks, grid (⌈T/32⌉, ⌈r/64⌉, B). Block (x, y, s) keeps only the
// tokens of sequence s (ragged batches: tiles holding none of them exit after one check; each token is computed by the
// block of its own sequence). 256 threads, 2 tokens × 4 ranks each; the D loop stages 32 columns of both operands in
// shared memory, transposed so the inner loop reads float2/float4 rows. fp32 FMA, one bf16 rounding at the store.

namespace skv_key_projection
{
constexpr int kThreads = 256;
constexpr int kTokens = 32;
constexpr int kRanks = 64;
constexpr int kCols = 32;        // D columns per stage
constexpr int kPadT = kTokens + 4; // row strides keep 16-byte alignment
constexpr int kPadR = kRanks + 4;
} // namespace skv_key_projection

template <int RANK>
__global__ void __launch_bounds__(skv_key_projection::kThreads)
SKV_KERNEL(const float* __restrict__ k,         // [T, D]
           const float* __restrict__ basis,     // [B, r, D]
           const int* __restrict__ token_seq,   // [T]
           const int* __restrict__ positions,   // [T]
           bf16* __restrict__ lowrank,          // [B, S, r]
           int T, int D, int S)
{
    using namespace skv_key_projection;
    __shared__ __align__(16) float sk[kCols][kPadT]; // [column][token]
    __shared__ __align__(16) float sb[kCols][kPadR]; // [column][rank]

    int t0 = blockIdx.x * kTokens, j0 = blockIdx.y * kRanks, s = blockIdx.z;
    int mine = threadIdx.x < kTokens && t0 + (int)threadIdx.x < T && token_seq[t0 + threadIdx.x] == s;
    if (!__syncthreads_or(mine)) return; // block-uniform
    const float* bs = basis + (i64)s * RANK * D;

    int tx = threadIdx.x & 15, ty = threadIdx.x >> 4; // tokens 2ty, 2ty+1; ranks 4tx … 4tx+3
    float acc[2][4] = {};
    for (int c0 = 0; c0 < D; c0 += kCols)
    {
        // k tile: 32 tokens × 32 columns = 256 float4, one per thread (D is a multiple of 32: no column edge).
        {
            int tok = threadIdx.x >> 3, col = (threadIdx.x & 7) * 4, t = t0 + tok;
            float4 v = make_float4(0.f, 0.f, 0.f, 0.f);
            if (t < T && token_seq[t] == s) v = *reinterpret_cast<const float4*>(k + (i64)t * D + c0 + col);
            sk[col][tok] = v.x;
            sk[col + 1][tok] = v.y;
            sk[col + 2][tok] = v.z;
            sk[col + 3][tok] = v.w;
        }
        // basis tile: 64 ranks × 32 columns = 512 float4, two per thread.
        for (int q = threadIdx.x; q < kRanks * kCols / 4; q += kThreads)
        {
            int rk = q >> 3, col = (q & 7) * 4, j = j0 + rk;
            float4 v = make_float4(0.f, 0.f, 0.f, 0.f);
            if (j < RANK) v = *reinterpret_cast<const float4*>(bs + (i64)j * D + c0 + col);
            sb[col][rk] = v.x;
            sb[col + 1][rk] = v.y;
            sb[col + 2][rk] = v.z;
            sb[col + 3][rk] = v.w;
        }
        __syncthreads();
#pragma unroll 8
        for (int q = 0; q < kCols; ++q)
        {
            float2 a = *reinterpret_cast<const float2*>(&sk[q][2 * ty]);
            float4 b = *reinterpret_cast<const float4*>(&sb[q][4 * tx]);
            float bv[4] = {b.x, b.y, b.z, b.w};
#pragma unroll
            for (int y = 0; y < 4; ++y)
            {
                acc[0][y] = fmaf(a.x, bv[y], acc[0][y]);
                acc[1][y] = fmaf(a.y, bv[y], acc[1][y]);
            }
        }
        __syncthreads();
    }

    for (int x = 0; x < 2; ++x)
    {
        int t = t0 + 2 * ty + x;
        if (t >= T || token_seq[t] != s) continue;
        int pos = positions[t];
        if (pos < 0 || pos >= S) continue;
        bf16* row = lowrank + ((i64)s * S + pos) * RANK;
        for (int y = 0; y < 4; ++y)
        {
            int j = j0 + 4 * tx + y;
            if (j < RANK) row[j] = float_to_bf16(acc[x][y]);
        }
    }
}
