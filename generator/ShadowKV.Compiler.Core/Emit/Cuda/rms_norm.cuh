// ---- rms_norm ----------------------------------------------------------------------------------------------------
// Op rms_norm: y = x · rsqrt(mean(x²) + eps) · weight over the last dim.
//   x [T, hidden] f32, weight [hidden] bf16, y [T, hidden] bf16.
// Launch: grid (T), block 256 — one block per row: the row is read twice (sum of squares, then scale), the second
// read hits L1/L2. float4 loads when hidden % 4 == 0 and the pointers are 16-byte aligned.
// Precision: all math in f32 (Hugging Face order: (x · r) · weight), one rounding to bf16 at the store.

namespace skv_rms_norm
{
constexpr int THREADS = 256;
} // namespace skv_rms_norm

__global__ void __launch_bounds__(256) SKV_KERNEL(
    const float* __restrict__ x,     // [T, hidden]
    const bf16* __restrict__ weight, // [hidden]
    bf16* __restrict__ y,            // [T, hidden]
    int hidden,
    float eps)
{
    using namespace skv_rms_norm;
    __shared__ float scratch[32];
    const float* row = x + (i64)blockIdx.x * hidden;
    bf16* out = y + (i64)blockIdx.x * hidden;
    const bool vector = (hidden % 4) == 0 && (((u64)row | (u64)out) & 15) == 0 && (((u64)weight | (u64)out) & 7) == 0;

    float ss = 0.0f;
    if (vector)
    {
        for (int i = threadIdx.x; i < hidden / 4; i += THREADS)
        {
            float4 v = reinterpret_cast<const float4*>(row)[i];
            ss += v.x * v.x + v.y * v.y + v.z * v.z + v.w * v.w;
        }
    }
    else
    {
        for (int i = threadIdx.x; i < hidden; i += THREADS) ss += row[i] * row[i];
    }
    const float r = rsqrtf(block_sum(ss, scratch) / (float)hidden + eps);

    if (vector)
    {
        for (int i = threadIdx.x; i < hidden / 4; i += THREADS)
        {
            float4 v = reinterpret_cast<const float4*>(row)[i];
            uint2 w = reinterpret_cast<const uint2*>(weight)[i];
            uint2 o;
            o.x = pack_bf16x2(v.x * r * __uint_as_float(w.x << 16), v.y * r * __uint_as_float(w.x & 0xffff0000u));
            o.y = pack_bf16x2(v.z * r * __uint_as_float(w.y << 16), v.w * r * __uint_as_float(w.y & 0xffff0000u));
            reinterpret_cast<uint2*>(out)[i] = o;
        }
    }
    else
    {
        for (int i = threadIdx.x; i < hidden; i += THREADS) out[i] = float_to_bf16(row[i] * r * bf16_to_float(weight[i]));
    }
}
