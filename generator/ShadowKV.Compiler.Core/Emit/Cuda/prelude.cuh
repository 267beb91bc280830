// ---- prelude: what every generated .cu file starts with ------------------------------------------------------
// Kernels are compiled by NVRTC with no include path (CI has no CUDA toolkit), so the few toolkit types we need are
// defined here: a bf16 storage type with round-to-nearest-even conversion, fixed-width integers and warp reductions.

typedef unsigned int u32;
typedef unsigned short u16;
typedef long long i64;
typedef unsigned long long u64;

// bf16 as raw storage: conversions are explicit so every rounding point is visible in the kernels.
struct __align__(2) bf16
{
    u16 bits;
};

__device__ __forceinline__ float bf16_to_float(bf16 v)
{
    return __uint_as_float(((u32)v.bits) << 16);
}

__device__ __forceinline__ bf16 float_to_bf16(float f)
{
    u32 u = __float_as_uint(f);
    bf16 r;
    if ((u & 0x7fffffffu) > 0x7f800000u)
    {
        r.bits = (u16)((u >> 16) | 0x40u); // keep NaN a quiet NaN
        return r;
    }
    u += 0x7fffu + ((u >> 16) & 1u); // round to nearest, ties to even
    r.bits = (u16)(u >> 16);
    return r;
}

// Two bf16 packed in one 32-bit register: the operand format of mma.sync m16n8k16.bf16.
__device__ __forceinline__ u32 pack_bf16x2(float lo, float hi)
{
    return (u32)float_to_bf16(lo).bits | ((u32)float_to_bf16(hi).bits << 16);
}

__device__ __forceinline__ float warp_sum(float v)
{
    for (int offset = 16; offset > 0; offset >>= 1)
        v += __shfl_xor_sync(0xffffffffu, v, offset);
    return v;
}

__device__ __forceinline__ float warp_max(float v)
{
    for (int offset = 16; offset > 0; offset >>= 1)
        v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
    return v;
}

// Block-wide sum for blockDim.x a multiple of 32 (≤ 1024); `scratch` holds 32 floats of shared memory.
__device__ __forceinline__ float block_sum(float v, float* scratch)
{
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    v = warp_sum(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    int warps = blockDim.x >> 5;
    v = lane < warps ? scratch[lane] : 0.0f;
    return warp_sum(v);
}

__device__ __forceinline__ float block_max(float v, float* scratch)
{
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    v = warp_max(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    int warps = blockDim.x >> 5;
    v = lane < warps ? scratch[lane] : -3.402823466e+38f;
    return warp_max(v);
}
