// ---- add_rms_norm ------------------------------------------------------------------------------------------------
// Op add_rms_norm: sum = x + residual (f32), y = rms_norm(sum) · weight — the residual add fused into the norm.
//   x [T, hidden] f32, residual [T, hidden] f32, weight [hidden] bf16 → sum [T, hidden] f32 (may alias x),
//   y [T, hidden] bf16.
// Launch: grid (T), block 256 — one block per row. `sum` may alias `x`, so neither is __restrict__; each element is
// read, summed and written by the same thread, and the second pass re-reads `sum` with the same thread ↔ element map,
// so the aliasing is race-free without a barrier.
// Precision: f32 add and norm, one rounding to bf16 at the store of y.

namespace skv_add_rms_norm
{
constexpr int THREADS = 256;
} // namespace skv_add_rms_norm

__global__ void __launch_bounds__(256) SKV_KERNEL(
    const float* x,                  // [T, hidden]
    const float* residual,           // [T, hidden]
    const bf16* __restrict__ weight, // [hidden]
    float* sum,                      // [T, hidden], may alias x
    bf16* __restrict__ y,            // [T, hidden]
    int hidden,
    float eps)
{
    using namespace skv_add_rms_norm;
    __shared__ float scratch[32];
    const i64 base = (i64)blockIdx.x * hidden;
    const float* a = x + base;
    const float* b = residual + base;
    float* s = sum + base;
    bf16* out = y + base;

    float ss = 0.0f;
    for (int i = threadIdx.x; i < hidden; i += THREADS)
    {
        float v = a[i] + b[i];
        s[i] = v;
        ss += v * v;
    }
    const float r = rsqrtf(block_sum(ss, scratch) / (float)hidden + eps);
    for (int i = threadIdx.x; i < hidden; i += THREADS) out[i] = float_to_bf16(s[i] * r * bf16_to_float(weight[i]));
}
