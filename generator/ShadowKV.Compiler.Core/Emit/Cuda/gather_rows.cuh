// ---- gather_rows -------------------------------------------------------------------------------------------------
// Op gather_rows: y[b] = x[rows[b]] — each sequence's last token row before the LM head.
//   x [T, width] 32-bit words, rows [B] i32, y [B, width]: f32 rows (width = hidden) or bf16 rows copied as pairs
//   (width = Hq*d/2 for the warm selection's last query); the plan binds width = row_words.
// Launch: grid (B), block 256 — one block per output row, a coalesced row copy. A row index outside [0, T) is a bug
// upstream; that output row is written as zeros.
// Precision: a copy.

namespace skv_gather_rows
{
constexpr int THREADS = 256;
} // namespace skv_gather_rows

__global__ void __launch_bounds__(256) SKV_KERNEL(
    const float* __restrict__ x, // [T, width]
    const int* __restrict__ rows, // [B]
    float* __restrict__ y,       // [B, width]
    int width,
    int T)
{
    using namespace skv_gather_rows;
    const int r = rows[blockIdx.x];
    float* out = y + (i64)blockIdx.x * width;
    if (r < 0 || r >= T)
    {
        for (int i = threadIdx.x; i < width; i += THREADS) out[i] = 0.0f;
        return;
    }
    const float* in = x + (i64)r * width;
    for (int i = threadIdx.x; i < width; i += THREADS) out[i] = in[i];
}
