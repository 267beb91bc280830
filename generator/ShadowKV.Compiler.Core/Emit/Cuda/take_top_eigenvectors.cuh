// ---- take_top_eigenvectors: the solver's eigenvectors → basis rows by descending eigenvalue ------------------------
// Op key_eigenbasis, GPU part 2 of 2: cuSOLVER ssyevd runs in place on gram first.
//   gram  f32 [B, D, D]   after ssyevd: column-major eigenvectors with ascending eigenvalues, so row i of this
//                         row-major buffer is eigenvector i (unit norm)
//   basis f32 [B, r, D]   basis[s, j] = eigenvector D−1−j (j-th largest eigenvalue), sign-normalised
// Eigenvectors are defined up to sign; to make the basis deterministic whatever solver produced it (the CPU backend's
// Jacobi, cuSOLVER of any version) each row is flipped so that its component of largest magnitude is positive (ties →
// lowest index). A·B = K·Ψ·Ψᵀ does not depend on the signs; only comparisons of basis itself need this.
// One block of 256 threads per (j, s): an argmax |x| block reduction, then the scaled copy. Grid (r, B).

namespace skv_take_top_eigenvectors
{
constexpr int kThreads = 256;
} // namespace skv_take_top_eigenvectors

template <int RANK>
__global__ void __launch_bounds__(skv_take_top_eigenvectors::kThreads)
SKV_KERNEL(const float* __restrict__ gram, // [B, D, D] eigenvectors as rows, ascending eigenvalue
           float* __restrict__ basis,      // [B, r, D]
           int D)
{
    using namespace skv_take_top_eigenvectors;
    __shared__ float best_abs[kThreads / 32];
    __shared__ int best_idx[kThreads / 32];
    __shared__ float sign;
    int j = blockIdx.x, s = blockIdx.y;
    if (j >= RANK || j >= D) return;
    const float* src = gram + ((i64)s * D + (D - 1 - j)) * D;
    float* dst = basis + ((i64)s * RANK + j) * D;

    // argmax |x|, ties → lowest index: compare (|x|, −index) lexicographically.
    float ba = -1.0f;
    int bi = 0x7fffffff;
    for (int e = threadIdx.x; e < D; e += kThreads)
    {
        float a = fabsf(src[e]);
        if (a > ba) { ba = a; bi = e; } // e ascends per thread, so strict > keeps the lowest index
    }
    for (int offset = 16; offset > 0; offset >>= 1)
    {
        float oa = __shfl_xor_sync(0xffffffffu, ba, offset);
        int oi = __shfl_xor_sync(0xffffffffu, bi, offset);
        if (oa > ba || (oa == ba && oi < bi)) { ba = oa; bi = oi; }
    }
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) { best_abs[warp] = ba; best_idx[warp] = bi; }
    __syncthreads();
    if (threadIdx.x == 0)
    {
        for (int w = 1; w < kThreads / 32; ++w)
            if (best_abs[w] > ba || (best_abs[w] == ba && best_idx[w] < bi)) { ba = best_abs[w]; bi = best_idx[w]; }
        sign = src[bi] < 0.0f ? -1.0f : 1.0f;
    }
    __syncthreads();
    float f = sign;
    for (int e = threadIdx.x; e < D; e += kThreads) dst[e] = f * src[e];
}
