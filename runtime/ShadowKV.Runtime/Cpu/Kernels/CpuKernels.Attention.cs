using System;
using System.Buffers;
using System.Numerics.Tensors;

namespace ShadowKV.Runtime.Cpu.Kernels;

// Layout: q [n, Hq·d] token-major (head h in columns h·d … h·d + d − 1); the KV cache of one layer and one
// sequence is K and V [Hkv, capacity, d] with keys stored post-RoPE and the token at position p in row p.
// GQA: query head h reads KV head h / G with G = Hq / Hkv (G = 1 is MHA). Scale 1/√d with the model's d.

public static unsafe partial class CpuKernels
{
    /// <summary>
    /// Causal attention for n query tokens of one sequence at positions p0 … p0 + n − 1 (chunked prefill: the
    /// first p0 tokens were cached by earlier chunks). The caller has already appended this chunk's keys and
    /// values, so the cache holds rows 0 … p0 + n − 1. q, output [n, Hq·d]; kCache, vCache [Hkv, capacity, d].
    /// </summary>
    public static void PrefillAttention(ReadOnlySpan<float> q, ReadOnlySpan<float> kCache, ReadOnlySpan<float> vCache, int capacity,
        int hq, int hkv, int d, int p0, Span<float> output)
    {
        int g = GroupSize(hq, hkv);
        int n = q.Length / (hq * d);
        if (p0 < 0 || p0 + n > capacity)
        {
            throw new ArgumentOutOfRangeException(nameof(p0), $"Query positions {p0} … {p0 + n - 1} do not fit a cache of capacity {capacity}.");
        }

        RequireLength(kCache, (long)hkv * capacity * d, nameof(kCache));
        RequireLength(vCache, (long)hkv * capacity * d, nameof(vCache));
        RequireLength(output, (long)n * hq * d, nameof(output));
        float scale = AttentionScale(d);
        if (n >= BlockedAttentionTokens)
        {
            BlockedPrefillAttention(q, kCache, vCache, capacity, hq, hkv, d, p0, n, scale, output);
            return;
        }

        fixed (float* pq = q, pk = kCache, pv = vCache, po = output)
        {
            float* qs = pq, ks = pk, vs = pv, os = po;
            // One work item per (token, query head): the decode and short-chunk path.
            Parallelism.For(n * hq, 8, (long)(p0 + n) * d, (start, end) =>
            {
                float[] scores = ArrayPool<float>.Shared.Rent(p0 + n);
                for (int item = start; item < end; item++)
                {
                    int i = item / hq, h = item % hq;
                    long kv = (long)(h / g) * capacity * d;
                    AttendOne(new ReadOnlySpan<float>(qs + ((long)i * hq + h) * d, d), scale,
                        ks + kv, vs + kv, p0 + i + 1, null, null, 0, d, scores,
                        new Span<float>(os + ((long)i * hq + h) * d, d));
                }

                ArrayPool<float>.Shared.Return(scores);
            });
        }
    }

    // Prefill chunks of at least this many tokens take the blocked path.
    private const int BlockedAttentionTokens = 16;

    // Blocked prefill: one work item per (KV head, 16 query tokens). Its G·16 query rows share every key, so
    // scores = Q·Kᵀ and output = P·V run on the Gemm micro-kernel (V is transposed once per call for that).
    private static void BlockedPrefillAttention(ReadOnlySpan<float> q, ReadOnlySpan<float> kCache, ReadOnlySpan<float> vCache, int capacity,
        int hq, int hkv, int d, int p0, int n, float scale, Span<float> output)
    {
        int g = hq / hkv, keys = p0 + n, blocks = (n + BlockedAttentionTokens - 1) / BlockedAttentionTokens;
        float[] vTransposed = ArrayPool<float>.Shared.Rent(hkv * d * keys); // [Hkv, d, keys]
        for (int h = 0; h < hkv; h++)
        {
            for (int j = 0; j < keys; j++)
            {
                ReadOnlySpan<float> row = vCache.Slice((h * capacity + j) * d, d);
                for (int i = 0; i < d; i++)
                {
                    vTransposed[((long)h * d + i) * keys + j] = row[i];
                }
            }
        }

        fixed (float* pq = q, pk = kCache, po = output, pvt = vTransposed)
        {
            float* qs = pq, ks = pk, os = po, vts = pvt;
            Parallelism.For(hkv * blocks, 1, (long)BlockedAttentionTokens * g * keys * d, (start, end) =>
            {
                int rowsMax = BlockedAttentionTokens * g;
                float[] queries = ArrayPool<float>.Shared.Rent(rowsMax * d), scores = ArrayPool<float>.Shared.Rent(rowsMax * keys);
                float[] rowsOut = ArrayPool<float>.Shared.Rent(rowsMax * d);
                fixed (float* qb = queries, sb = scores, ob = rowsOut)
                {
                    for (int item = start; item < end; item++)
                    {
                        int h = item / blocks, i0 = item % blocks * BlockedAttentionTokens, i1 = Math.Min(n, i0 + BlockedAttentionTokens);
                        int rows = (i1 - i0) * g, visible = p0 + i1; // keys any row of the block may see
                        for (int r = 0; r < rows; r++)
                        {
                            new ReadOnlySpan<float>(qs + ((long)(i0 + r / g) * hq + h * g + r % g) * d, d).CopyTo(new Span<float>(qb + (long)r * d, d));
                        }

                        Gemm.MultiplyTransposed(qb, d, ks + (long)h * capacity * d, d, null, sb, visible, rows, visible, d);
                        for (int r = 0; r < rows; r++)
                        {
                            // Causal: row r is token i0 + r / g at position p0 + i0 + r / g.
                            int own = p0 + i0 + r / g + 1;
                            var row = new Span<float>(sb + (long)r * visible, visible);
                            TensorPrimitives.Multiply(row[..own], scale, row[..own]);
                            Softmax(row[..own]);
                            row[own..].Clear();
                        }

                        Gemm.MultiplyTransposed(sb, visible, vts + (long)h * d * keys, keys, null, ob, d, rows, d, visible);
                        for (int r = 0; r < rows; r++)
                        {
                            new ReadOnlySpan<float>(ob + (long)r * d, d).CopyTo(new Span<float>(os + ((long)(i0 + r / g) * hq + h * g + r % g) * d, d));
                        }
                    }
                }

                ArrayPool<float>.Shared.Return(queries);
                ArrayPool<float>.Shared.Return(scores);
                ArrayPool<float>.Shared.Return(rowsOut);
            });
        }

        ArrayPool<float>.Shared.Return(vTransposed);
    }

    /// <summary>
    /// One decode query of one sequence over its cache rows 0 … length − 1 (the new token's k and v already
    /// appended). q, output [Hq·d]; kCache, vCache [Hkv, capacity, d].
    /// </summary>
    public static void DecodeAttention(ReadOnlySpan<float> q, ReadOnlySpan<float> kCache, ReadOnlySpan<float> vCache, int capacity, int length,
        int hq, int hkv, int d, Span<float> output)
    {
        RequireLength(q, (long)hq * d, nameof(q));
        PrefillAttention(q[..(hq * d)], kCache, vCache, capacity, hq, hkv, d, length - 1, output);
    }

    internal static int GroupSize(int hq, int hkv)
    {
        if (hq <= 0 || hkv <= 0 || hq % hkv != 0)
        {
            throw new ArgumentException($"Hq = {hq} must be a positive multiple of Hkv = {hkv}.", nameof(hkv));
        }

        return hq / hkv;
    }

    // HF: head_dim ** -0.5 in Python double, applied to float32 scores as a float32 factor.
    internal static float AttentionScale(int d) => (float)(1.0 / Math.Sqrt(d));

    /// <summary>
    /// Softmax attention of one query head q [d] over two key/value segments of rows [n0, d] and [n1, d]
    /// (a segment with n = 0 may pass null). The order of segments changes only float rounding.
    /// </summary>
    internal static void AttendOne(ReadOnlySpan<float> q, float scale, float* k0, float* v0, int n0, float* k1, float* v1, int n1,
        int d, float[] scratch, Span<float> output)
    {
        Span<float> scores = scratch.AsSpan(0, n0 + n1);
        for (int j = 0; j < n0; j++)
        {
            scores[j] = TensorPrimitives.Dot(q, new ReadOnlySpan<float>(k0 + (long)j * d, d)) * scale;
        }

        for (int j = 0; j < n1; j++)
        {
            scores[n0 + j] = TensorPrimitives.Dot(q, new ReadOnlySpan<float>(k1 + (long)j * d, d)) * scale;
        }

        Softmax(scores);
        output.Clear();
        for (int j = 0; j < n0; j++)
        {
            TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(v0 + (long)j * d, d), scores[j], output, output);
        }

        for (int j = 0; j < n1; j++)
        {
            TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(v1 + (long)j * d, d), scores[n0 + j], output, output);
        }
    }
}
