// ---- key_gram_reduce: sum the split partials into the Gram matrix, mirroring the upper tiles -----------------------
// Op key_gram, pass 2 of 2 (after key_gram).
//   partials f32 [SPLITS, B, D, D]   scratch from key_gram; only 64×64 tiles with tile_row ≤ tile_col were written
//   gram     f32 [B, D, D]           gram[s, i, j] = Σ_z partials[z, s, i', j'], (i', j') the element's upper-tile twin
// One thread per output element, grid (⌈D·D/256⌉, B). The gram is overwritten (every element is written), so the step
// needs no zeroing. Splits are summed in ascending order: deterministic. Mirrored reads are strided; this pass moves
// SPLITS·D² floats per sequence once per prefill, far below the Gram's own cost.

namespace skv_key_gram_reduce
{
constexpr int kThreads = 256;
constexpr int kTile = 64; // must match key_gram's tile
} // namespace skv_key_gram_reduce

template <int HEAD_DIM>
__global__ void __launch_bounds__(skv_key_gram_reduce::kThreads)
SKV_KERNEL(const float* __restrict__ partials, // [SPLITS, B, D, D]
           float* __restrict__ gram,           // [B, D, D]
           int B, int D, int splits)
{
    using namespace skv_key_gram_reduce;
    int s = blockIdx.y;
    i64 e = (i64)blockIdx.x * kThreads + threadIdx.x;
    if (e >= (i64)D * D) return;
    int i = (int)(e / D), j = (int)(e % D);
    i64 src = (i / kTile <= j / kTile) ? (i64)i * D + j : (i64)j * D + i;
    i64 plane = (i64)D * D;
    float sum = 0.0f;
    for (int z = 0; z < splits; ++z) sum += partials[((i64)z * B + s) * plane + src];
    gram[(i64)s * plane + e] = sum;
}
