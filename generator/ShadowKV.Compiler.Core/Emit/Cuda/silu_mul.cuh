// ---- silu_mul ----------------------------------------------------------------------------------------------------
// Op silu_mul: y = silu(gate) · up, elementwise.
//   gate [T, ffn] f32, up [T, ffn] f32, y [T, ffn] bf16; treated as flat arrays of n = T·ffn elements. n is 64-bit:
//   a 150K-token prefill of an 8B shape (ffn 14336) already passes 2³¹ elements.
// Launch: grid (ceildiv(n, 1024)), block 256 — each thread owns 4 consecutive elements: two float4 loads and one
// 8-byte store when the pointers are aligned, else a scalar tail.
// Precision: f32 math (silu(g) = g / (1 + e^−g) with the fast exp, rel. error ~1e-6), one rounding to bf16.

namespace skv_silu_mul
{
constexpr int THREADS = 256;
constexpr int PER_THREAD = 4;

__device__ __forceinline__ float silu_times(float g, float u) { return g / (1.0f + __expf(-g)) * u; }
} // namespace skv_silu_mul

__global__ void __launch_bounds__(256) SKV_KERNEL(
    const float* __restrict__ gate, // [T, ffn]
    const float* __restrict__ up,   // [T, ffn]
    bf16* __restrict__ y,           // [T, ffn]
    int rows,                       // T
    int width)                      // ffn
{
    using namespace skv_silu_mul;
    const i64 n = (i64)rows * width;
    const i64 i0 = ((i64)blockIdx.x * THREADS + threadIdx.x) * PER_THREAD;
    if (i0 >= n) return;
    const bool aligned = (((u64)gate | (u64)up) & 15) == 0 && ((u64)y & 7) == 0;
    if (aligned && i0 + PER_THREAD <= n)
    {
        float4 g = *reinterpret_cast<const float4*>(gate + i0);
        float4 u = *reinterpret_cast<const float4*>(up + i0);
        uint2 o;
        o.x = pack_bf16x2(silu_times(g.x, u.x), silu_times(g.y, u.y));
        o.y = pack_bf16x2(silu_times(g.z, u.z), silu_times(g.w, u.w));
        *reinterpret_cast<uint2*>(y + i0) = o;
    }
    else
    {
        for (i64 i = i0; i < i0 + PER_THREAD && i < n; ++i) y[i] = float_to_bf16(silu_times(gate[i], up[i]));
    }
}
