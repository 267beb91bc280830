// ---- flash_attention ---------------------------------------------------------------------------------------------
// Op flash_attention: causal GQA attention over the cache (prefill, chunked prefill included). Query row t of
// sequence s = token_seq[t] at position p = positions[t] attends k/v_cache[s, h/G, 0..p] with scale 1/√d.
//   q_rot [T, Hq·d] bf16, k_cache/v_cache [B, Hkv, S, d] bf16, positions [T] i32, token_seq [T] i32
//   → y [T, Hq·d] bf16.
// Launch: grid (ceildiv(T, 64), Hq), block 128 (4 warps). A block owns 64 consecutive query rows of one query head.
// Rows are token-major across a ragged batch, so a tile may cross sequence boundaries: the block walks the distinct
// sequences present in its tile (ascending slot id; one pass in the common case) and, for each, streams that
// sequence's keys 0..max position of its rows. A row of another sequence sees only masked scores in that pass, so
// the online softmax leaves it unchanged; every row is masked by its own (sequence, position), and a warp skips the
// key tiles beyond the last position of its rows (the causal upper triangle).
//
// Tensor-core path (HEAD_DIM % 16 == 0): each warp owns 16 query rows (one m16 tile); S = Q·Kᵀ and O += P·V use
// mma.sync.m16n8k16 bf16 with f32 accumulators. K and V tiles of BN keys go to shared memory with cp.async (16-byte,
// zero-filled past the end), overlapping the K load of the next tile with P·V and the V load with Q·Kᵀ. Q fragments
// stay in registers for the whole block. Online softmax in f32, in the log2 domain (scores pre-multiplied by
// log2(e)/√d, exp2f). P is rounded to bf16 for the P·V product (as FlashAttention-2); the row sums use f32 P.
// Scalar path (other HEAD_DIM, e.g. stories260K's d = 8): each warp walks its 16 rows; lanes split the keys, each
// keeps an online softmax, and the warp merges them with shuffles.
// Precision: bf16 inputs, f32 accumulation and softmax, one rounding of y to bf16.

namespace skv_flash_attention
{
constexpr int BLOCK_M = 64; // query rows per block: 4 warps × one m16 tile
constexpr int THREADS = 128;
constexpr float LOG2E = 1.4426950408889634f;

// Keys per shared-memory tile: 64 up to d = 128, fewer above so K + V stay well under the 48 KiB static limit and the
// f32 score fragments (BN/2 registers per thread) leave room for the d/2 output accumulators.
template <int HEAD_DIM>
struct Tile
{
    static constexpr int BN = HEAD_DIM <= 128 ? 64 : 32;
    // Row stride in bf16: +8 elements (16 B) so the 8 row addresses of one ldmatrix 8×8 matrix fall in 8 different
    // 16-byte bank groups (a stride of 128 B or 256 B would put them all on the same banks).
    static constexpr int STRIDE = HEAD_DIM + 8;
    static constexpr int CHUNKS_PER_ROW = HEAD_DIM / 8; // 16-byte cp.async pieces per key row
};

__device__ __forceinline__ float neg_inf() { return __int_as_float(0xff800000); }

// ---- PTX wrappers (PTX ISA: 9.7.9.25 cp.async, 9.7.14.5.15 ldmatrix, 9.7.14.5.14 mma.m16n8k16) ----------------------

__device__ __forceinline__ u32 shared_address(const void* p)
{
    u32 a;
    asm("{ .reg .u64 t; cvta.to.shared.u64 t, %1; cvt.u32.u64 %0, t; }" : "=r"(a) : "l"(p));
    return a;
}

// Copies 16 bytes global → shared asynchronously; with valid == false it writes 16 zero bytes (src-size 0).
__device__ __forceinline__ void cp_async_16(u32 dst, const void* src, bool valid)
{
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(valid ? 16 : 0) : "memory");
}

__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }

template <int PENDING>
__device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(PENDING) : "memory"); }

// Four 8×8 b16 matrices; lanes 8i..8i+7 give the row addresses of matrix i. Lane l receives in register i the pair
// (row l/4, columns 2·(l%4), 2·(l%4)+1) of matrix i — or, with .trans, (rows 2·(l%4), 2·(l%4)+1; column l/4).
__device__ __forceinline__ void ldmatrix_x4(u32 (&r)[4], u32 address)
{
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(address)
                 : "memory");
}

__device__ __forceinline__ void ldmatrix_x4_trans(u32 (&r)[4], u32 address)
{
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(address)
                 : "memory");
}

// D = A·B + D for A 16×16 (row), B 16×8 (col), bf16 in, f32 accumulate. With g = lane/4, c = lane%4:
//   A: a0 (row g, cols 2c..2c+1), a1 (row g+8, same cols), a2 (row g, cols 2c+8..), a3 (row g+8, cols 2c+8..);
//   B: b0 (rows 2c..2c+1, col g), b1 (rows 2c+8..2c+9, col g);
//   D: d0, d1 (row g, cols 2c, 2c+1), d2, d3 (row g+8, cols 2c, 2c+1).
__device__ __forceinline__ void mma_bf16_16816(float (&d)[4], const u32 (&a)[4], u32 b0, u32 b1)
{
    asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
        "{%0, %1, %2, %3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// Two f32 → packed bf16x2 (lo in the low half), round to nearest even, in one instruction.
__device__ __forceinline__ u32 pack_rn(float lo, float hi)
{
    u32 r;
    asm("cvt.rn.bf16x2.f32 %0, %1, %2;\n" : "=r"(r) : "f"(hi), "f"(lo));
    return r;
}

__device__ __forceinline__ int warp_min_int(int v)
{
    for (int offset = 16; offset > 0; offset >>= 1) v = min(v, __shfl_xor_sync(0xffffffffu, v, offset));
    return v;
}

__device__ __forceinline__ int warp_max_int(int v)
{
    for (int offset = 16; offset > 0; offset >>= 1) v = max(v, __shfl_xor_sync(0xffffffffu, v, offset));
    return v;
}

// Issues the cp.async copies of keys [j0, j0 + BN) of one (sequence, KV head) into a shared tile; rows at or past
// kv_end are zero-filled so masked columns never multiply garbage (a NaN pattern times p = 0 is still NaN).
template <int HEAD_DIM>
__device__ __forceinline__ void load_tile(bf16* tile, const bf16* base, int j0, int kv_end)
{
    using TL = Tile<HEAD_DIM>;
    for (int c = threadIdx.x; c < TL::BN * TL::CHUNKS_PER_ROW; c += THREADS)
    {
        const int r = c / TL::CHUNKS_PER_ROW, piece = c % TL::CHUNKS_PER_ROW;
        const int j = j0 + r;
        const bool valid = j < kv_end;
        const bf16* src = base + (i64)(valid ? j : 0) * HEAD_DIM + piece * 8;
        cp_async_16(shared_address(tile + r * TL::STRIDE + piece * 8), src, valid);
    }
}

// ---- tensor-core path ------------------------------------------------------------------------------------------

template <int HEAD_DIM, int GROUP>
__device__ __forceinline__ void attend_mma(
    const bf16* __restrict__ q_rot, const bf16* __restrict__ k_cache, const bf16* __restrict__ v_cache,
    const int* s_seq, const int* s_pos, bf16* __restrict__ y, int T, int Hq, int Hkv, int S)
{
    using TL = Tile<HEAD_DIM>;
    constexpr int BN = TL::BN, STRIDE = TL::STRIDE;
    constexpr int KC = HEAD_DIM / 16; // k-steps of Q·Kᵀ (over d)
    constexpr int NT = BN / 8;        // n8 score tiles per key tile
    constexpr int DT = HEAD_DIM / 8;  // n8 output tiles (over d)
    __shared__ __align__(128) bf16 s_k[BN * STRIDE];
    __shared__ __align__(128) bf16 s_v[BN * STRIDE];

    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, c = lane & 3;
    const int h = blockIdx.y, kv_head = h / GROUP;
    const int row_a = warp * 16 + g, row_b = row_a + 8; // this thread's two rows within the block tile
    const int t_a = blockIdx.x * BLOCK_M + row_a, t_b = blockIdx.x * BLOCK_M + row_b;
    const int seq_a = s_seq[row_a], seq_b = s_seq[row_b], pos_a = s_pos[row_a], pos_b = s_pos[row_b];
    const i64 q_stride = (i64)Hq * HEAD_DIM;

    // Q fragments straight from global (read once per block): A-operand layout, see mma_bf16_16816.
    u32 qf[KC][4];
    {
        const u32* qa = reinterpret_cast<const u32*>(q_rot + (i64)min(t_a, T - 1) * q_stride + h * HEAD_DIM);
        const u32* qb = reinterpret_cast<const u32*>(q_rot + (i64)min(t_b, T - 1) * q_stride + h * HEAD_DIM);
#pragma unroll
        for (int kc = 0; kc < KC; ++kc)
        {
            qf[kc][0] = t_a < T ? qa[kc * 8 + c] : 0u;
            qf[kc][1] = t_b < T ? qb[kc * 8 + c] : 0u;
            qf[kc][2] = t_a < T ? qa[kc * 8 + 4 + c] : 0u;
            qf[kc][3] = t_b < T ? qb[kc * 8 + 4 + c] : 0u;
        }
    }

    float o[DT][4];
#pragma unroll
    for (int i = 0; i < DT; ++i) o[i][0] = o[i][1] = o[i][2] = o[i][3] = 0.0f;
    float m_a = neg_inf(), m_b = neg_inf(), l_a = 0.0f, l_b = 0.0f; // l: this thread's partial row sums
    const float scale_log2 = LOG2E / sqrtf((float)HEAD_DIM);

    // ldmatrix lane → row address offsets (in elements) inside a 16×16 block of a key tile.
    //   K (non-trans, for B of Q·Kᵀ): matrix i = (keys +8·(i>>1), dims +8·(i&1)) → b0, b1 of two n8 key tiles.
    //   V (trans, for B of P·V):      matrix i = (keys +8·(i&1), dims +8·(i>>1)) → b0, b1 of two n8 dim tiles.
    const int mi = lane >> 3, mr = lane & 7;
    const int k_lane_offset = ((mi >> 1) * 8 + mr) * STRIDE + (mi & 1) * 8;
    const int v_lane_offset = ((mi & 1) * 8 + mr) * STRIDE + (mi >> 1) * 8;
    const u32 k_base = shared_address(s_k), v_base = shared_address(s_v);

    int previous = -1;
    while (true)
    {
        // Next sequence of the tile (ascending slot id) and how far its keys reach. Invalid rows have seq −1.
        int current = 0x7fffffff, kv_end = 0;
        for (int r = 0; r < BLOCK_M; ++r)
            if (s_seq[r] > previous && s_seq[r] < current) current = s_seq[r];
        if (current == 0x7fffffff) break;
        for (int r = 0; r < BLOCK_M; ++r)
            if (s_seq[r] == current) kv_end = max(kv_end, s_pos[r] + 1);
        kv_end = min(kv_end, S);
        previous = current;

        const bool in_a = seq_a == current, in_b = seq_b == current;
        // Warp-uniform facts for skipping and masking: last and first position among this warp's rows of `current`.
        const int warp_hi = warp_max_int(max(in_a ? pos_a : -1, in_b ? pos_b : -1));
        const int warp_lo = warp_min_int(min(in_a ? pos_a : 0x7fffffff, in_b ? pos_b : 0x7fffffff));
        const bool warp_all_in = __all_sync(0xffffffffu, in_a && in_b);

        const i64 head_offset = ((i64)current * Hkv + kv_head) * S * HEAD_DIM;
        const bf16* k_src = k_cache + head_offset;
        const bf16* v_src = v_cache + head_offset;
        const int tiles = (kv_end + BN - 1) / BN;

        // Pipeline: groups are committed in the order K0, V0, K1, V1, …; "wait_group 1" leaves only the newest pending.
        load_tile<HEAD_DIM>(s_k, k_src, 0, kv_end);
        cp_async_commit();
        load_tile<HEAD_DIM>(s_v, v_src, 0, kv_end);
        cp_async_commit();

        for (int tile = 0; tile < tiles; ++tile)
        {
            const int j0 = tile * BN;
            const bool active = warp_hi >= j0; // warp-uniform: some row of this warp sees a key of this tile
            float s[NT][4];

            cp_async_wait<1>(); // K(tile) landed
            __syncthreads();
            if (active)
            {
#pragma unroll
                for (int i = 0; i < NT; ++i) s[i][0] = s[i][1] = s[i][2] = s[i][3] = 0.0f;
#pragma unroll
                for (int np = 0; np < NT / 2; ++np)
#pragma unroll
                    for (int kc = 0; kc < KC; ++kc)
                    {
                        u32 b[4];
                        ldmatrix_x4(b, k_base + 2u * (u32)(np * 16 * STRIDE + kc * 16 + k_lane_offset));
                        mma_bf16_16816(s[2 * np], qf[kc], b[0], b[1]);
                        mma_bf16_16816(s[2 * np + 1], qf[kc], b[2], b[3]);
                    }

                const bool need_mask = !warp_all_in || j0 + BN - 1 > warp_lo || j0 + BN > kv_end;
                float max_a = neg_inf(), max_b = neg_inf();
#pragma unroll
                for (int i = 0; i < NT; ++i)
#pragma unroll
                    for (int e = 0; e < 4; ++e)
                    {
                        float v = s[i][e] * scale_log2;
                        if (need_mask)
                        {
                            const int j = j0 + i * 8 + 2 * c + (e & 1);
                            const bool keep = e < 2 ? (in_a && j <= pos_a) : (in_b && j <= pos_b);
                            if (!keep || j >= kv_end) v = neg_inf();
                        }
                        s[i][e] = v;
                        if (e < 2) max_a = fmaxf(max_a, v);
                        else max_b = fmaxf(max_b, v);
                    }
                // A row's 8 columns of an n8 tile live in the 4 lanes of one quad: reduce over lanes c = 0..3.
                max_a = fmaxf(max_a, __shfl_xor_sync(0xffffffffu, max_a, 1));
                max_a = fmaxf(max_a, __shfl_xor_sync(0xffffffffu, max_a, 2));
                max_b = fmaxf(max_b, __shfl_xor_sync(0xffffffffu, max_b, 1));
                max_b = fmaxf(max_b, __shfl_xor_sync(0xffffffffu, max_b, 2));

                const float new_a = fmaxf(m_a, max_a), new_b = fmaxf(m_b, max_b);
                // A row with no visible key yet keeps m = −inf; subtract 0 instead so exp2 gives 0, not NaN.
                const float ref_a = new_a == neg_inf() ? 0.0f : new_a, ref_b = new_b == neg_inf() ? 0.0f : new_b;
                const float alpha_a = exp2f(m_a - ref_a), alpha_b = exp2f(m_b - ref_b);
                m_a = new_a;
                m_b = new_b;
                float sum_a = 0.0f, sum_b = 0.0f;
#pragma unroll
                for (int i = 0; i < NT; ++i)
                {
                    s[i][0] = exp2f(s[i][0] - ref_a);
                    s[i][1] = exp2f(s[i][1] - ref_a);
                    s[i][2] = exp2f(s[i][2] - ref_b);
                    s[i][3] = exp2f(s[i][3] - ref_b);
                    sum_a += s[i][0] + s[i][1];
                    sum_b += s[i][2] + s[i][3];
                }
                l_a = l_a * alpha_a + sum_a;
                l_b = l_b * alpha_b + sum_b;
#pragma unroll
                for (int i = 0; i < DT; ++i)
                {
                    o[i][0] *= alpha_a;
                    o[i][1] *= alpha_a;
                    o[i][2] *= alpha_b;
                    o[i][3] *= alpha_b;
                }
            }

            __syncthreads(); // every warp is done with s_k
            if (tile + 1 < tiles) load_tile<HEAD_DIM>(s_k, k_src, j0 + BN, kv_end);
            cp_async_commit();
            cp_async_wait<1>(); // V(tile) landed
            __syncthreads();

            if (active)
            {
#pragma unroll
                for (int kk = 0; kk < BN / 16; ++kk)
                {
                    // The f32 score accumulators of n8 tiles 2kk, 2kk+1 are exactly the A fragment of P[:, 16kk..16kk+15].
                    u32 p[4];
                    p[0] = pack_rn(s[2 * kk][0], s[2 * kk][1]);
                    p[1] = pack_rn(s[2 * kk][2], s[2 * kk][3]);
                    p[2] = pack_rn(s[2 * kk + 1][0], s[2 * kk + 1][1]);
                    p[3] = pack_rn(s[2 * kk + 1][2], s[2 * kk + 1][3]);
#pragma unroll
                    for (int dp = 0; dp < DT / 2; ++dp)
                    {
                        u32 b[4];
                        ldmatrix_x4_trans(b, v_base + 2u * (u32)(kk * 16 * STRIDE + dp * 16 + v_lane_offset));
                        mma_bf16_16816(o[2 * dp], p, b[0], b[1]);
                        mma_bf16_16816(o[2 * dp + 1], p, b[2], b[3]);
                    }
                }
            }

            __syncthreads(); // every warp is done with s_v
            if (tile + 1 < tiles) load_tile<HEAD_DIM>(s_v, v_src, j0 + BN, kv_end);
            cp_async_commit();
        }
        cp_async_wait<0>();
    }

    l_a += __shfl_xor_sync(0xffffffffu, l_a, 1);
    l_a += __shfl_xor_sync(0xffffffffu, l_a, 2);
    l_b += __shfl_xor_sync(0xffffffffu, l_b, 1);
    l_b += __shfl_xor_sync(0xffffffffu, l_b, 2);
    const float inv_a = l_a > 0.0f ? 1.0f / l_a : 0.0f, inv_b = l_b > 0.0f ? 1.0f / l_b : 0.0f;
    u32* ya = reinterpret_cast<u32*>(y + (i64)t_a * q_stride + h * HEAD_DIM);
    u32* yb = reinterpret_cast<u32*>(y + (i64)t_b * q_stride + h * HEAD_DIM);
#pragma unroll
    for (int i = 0; i < DT; ++i)
    {
        if (t_a < T) ya[i * 4 + c] = pack_rn(o[i][0] * inv_a, o[i][1] * inv_a);
        if (t_b < T) yb[i * 4 + c] = pack_rn(o[i][2] * inv_b, o[i][3] * inv_b);
    }
}

// ---- scalar path -----------------------------------------------------------------------------------------------

template <int HEAD_DIM, int GROUP>
__device__ __forceinline__ void attend_scalar(
    const bf16* __restrict__ q_rot, const bf16* __restrict__ k_cache, const bf16* __restrict__ v_cache,
    const int* s_seq, const int* s_pos, bf16* __restrict__ y, int T, int Hq, int Hkv, int S)
{
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int h = blockIdx.y, kv_head = h / GROUP;
    const float scale_log2 = LOG2E / sqrtf((float)HEAD_DIM);

    for (int r = warp * 16; r < warp * 16 + 16; ++r)
    {
        const int t = blockIdx.x * BLOCK_M + r;
        const int seq = s_seq[r], pos = s_pos[r];
        if (seq < 0) continue; // past T (warp-uniform)
        const int kv_end = min(pos + 1, S);
        const bf16* q_row = q_rot + ((i64)t * Hq + h) * HEAD_DIM;
        float qv[HEAD_DIM];
#pragma unroll
        for (int i = 0; i < HEAD_DIM; ++i) qv[i] = bf16_to_float(q_row[i]) * scale_log2;

        const i64 head_offset = ((i64)seq * Hkv + kv_head) * S * HEAD_DIM;
        float m = neg_inf(), l = 0.0f, acc[HEAD_DIM];
#pragma unroll
        for (int i = 0; i < HEAD_DIM; ++i) acc[i] = 0.0f;
        for (int j = lane; j < kv_end; j += 32)
        {
            const bf16* kr = k_cache + head_offset + (i64)j * HEAD_DIM;
            const bf16* vr = v_cache + head_offset + (i64)j * HEAD_DIM;
            float dot = 0.0f;
#pragma unroll
            for (int i = 0; i < HEAD_DIM; ++i) dot += qv[i] * bf16_to_float(kr[i]);
            const float m_new = fmaxf(m, dot);
            const float alpha = exp2f(m - m_new), p = exp2f(dot - m_new);
            l = l * alpha + p;
#pragma unroll
            for (int i = 0; i < HEAD_DIM; ++i) acc[i] = acc[i] * alpha + p * bf16_to_float(vr[i]);
            m = m_new;
        }

        // Merge the 32 lane-local softmax states; lanes that saw no key have m = −inf and weight exp2(−inf) = 0.
        const float m_all = warp_max(m);
        const float w = m == neg_inf() ? 0.0f : exp2f(m - m_all);
        const float l_all = warp_sum(l * w);
        const float inv = l_all > 0.0f ? 1.0f / l_all : 0.0f;
        bf16* y_row = y + ((i64)t * Hq + h) * HEAD_DIM;
#pragma unroll
        for (int i = 0; i < HEAD_DIM; ++i)
        {
            const float v = warp_sum(acc[i] * w);
            if ((i & 31) == lane) y_row[i] = float_to_bf16(v * inv);
        }
    }
}
} // namespace skv_flash_attention

template <int HEAD_DIM, int GROUP>
__global__ void __launch_bounds__(128) SKV_KERNEL(
    const bf16* __restrict__ q_rot,    // [T, Hq·d]
    const bf16* __restrict__ k_cache,  // [B, Hkv, S, d]
    const bf16* __restrict__ v_cache,  // [B, Hkv, S, d]
    const int* __restrict__ positions, // [T]
    const int* __restrict__ token_seq, // [T]
    bf16* __restrict__ y,              // [T, Hq·d]
    int T,
    int Hq,
    int Hkv,
    int S)
{
    using namespace skv_flash_attention;
    __shared__ int s_seq[BLOCK_M], s_pos[BLOCK_M]; // the block's rows; seq −1 marks rows past T
    if (threadIdx.x < BLOCK_M)
    {
        const int t = blockIdx.x * BLOCK_M + threadIdx.x;
        s_seq[threadIdx.x] = t < T ? token_seq[t] : -1;
        s_pos[threadIdx.x] = t < T ? positions[t] : -1;
    }
    __syncthreads();

    if constexpr (HEAD_DIM % 16 == 0)
        attend_mma<HEAD_DIM, GROUP>(q_rot, k_cache, v_cache, s_seq, s_pos, y, T, Hq, Hkv, S);
    else
        attend_scalar<HEAD_DIM, GROUP>(q_rot, k_cache, v_cache, s_seq, s_pos, y, T, Hq, Hkv, S);
}
