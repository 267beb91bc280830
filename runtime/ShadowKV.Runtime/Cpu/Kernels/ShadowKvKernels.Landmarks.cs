using System;
using System.Numerics.Tensors;

namespace ShadowKV.Runtime.Cpu.Kernels;

// Layout: post-RoPE prompt keys of one layer and one sequence [Hkv, capacity, d] (the KV cache; capacity may
// exceed S — every index below uses capacity as the head stride, the authors' value-fetch bug was a stride
// that assumed capacity = S). Chunk j covers tokens j·c … j·c + c − 1; tokens c·n_c … S − 1 are the exact tail.
// Outputs per KV head: outliers [Hkv, o] chunk ids, landmarks [Hkv, n_c − o, d], their chunk ids [Hkv, n_c − o].

/// <summary>
/// How a prompt of S tokens is cut: <see cref="Chunks"/> = n_c = max(0, ⌊S/c⌋ − n_loc) chunks, of which
/// <see cref="Outliers"/> (o clamped to n_c) per KV head stay exact; the tail from <see cref="TailStart"/> stays exact.
/// </summary>
public readonly record struct ChunkLayout(int S, int ChunkSize, int Chunks, int Outliers)
{
    /// <summary>Landmarks per KV head (chunks that are not outliers).</summary>
    public int Landmarks => Chunks - Outliers;

    /// <summary>First token of the exact local tail.</summary>
    public int TailStart => ChunkSize * Chunks;

    /// <summary>Tokens in the exact local tail: n_loc·c plus the S mod c leftovers (all of S when there are no chunks).</summary>
    public int TailLength => S - TailStart;

    /// <summary>Plans the cut for prompt length S, chunk size c, n_loc local chunks and o outliers per KV head.</summary>
    public static ChunkLayout Plan(int S, int c, int localChunks, int outliers)
    {
        if (S < 0 || c <= 0 || localChunks < 0 || outliers < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(S), $"Chunk layout needs S ≥ 0, c > 0, n_loc ≥ 0, o ≥ 0 (S = {S}, c = {c}, n_loc = {localChunks}, o = {outliers}).");
        }

        int chunks = Math.Max(0, S / c - localChunks);
        return new ChunkLayout(S, c, chunks, Math.Min(outliers, chunks));
    }
}

public static partial class ShadowKvKernels
{
    /// <summary>
    /// Landmarks (chunk means of post-RoPE keys) and outlier chunks per KV head. kPost [Hkv, capacity, d];
    /// outlierChunkIds [Hkv, o], landmarks [Hkv, n_c − o, d], landmarkChunkIds [Hkv, n_c − o], ids ascending.
    /// Outliers are the o chunks whose worst key is least like the mean (smallest min-cosine); ties → lower chunk.
    /// </summary>
    public static void Landmarks(ReadOnlySpan<float> kPost, int hkv, int capacity, int d, ChunkLayout layout,
        Span<int> outlierChunkIds, Span<float> landmarks, Span<int> landmarkChunkIds)
    {
        int c = layout.ChunkSize, nc = layout.Chunks, o = layout.Outliers, nl = layout.Landmarks;
        CpuKernelsShapes.Require(layout.S <= capacity, nameof(capacity), $"S = {layout.S} ≤ capacity");
        CpuKernelsShapes.Require(kPost.Length >= (long)hkv * capacity * d, nameof(kPost), $"[{hkv}, {capacity}, {d}]");
        CpuKernelsShapes.Require(outlierChunkIds.Length >= hkv * o, nameof(outlierChunkIds), $"[{hkv}, {o}]");
        CpuKernelsShapes.Require(landmarks.Length >= (long)hkv * nl * d, nameof(landmarks), $"[{hkv}, {nl}, {d}]");
        CpuKernelsShapes.Require(landmarkChunkIds.Length >= hkv * nl, nameof(landmarkChunkIds), $"[{hkv}, {nl}]");

        var means = new float[nc * d];
        var minCosine = new float[nc];
        var order = new int[nc];
        for (int h = 0; h < hkv; h++)
        {
            ReadOnlySpan<float> head = kPost.Slice(h * capacity * d, capacity * d);
            for (int j = 0; j < nc; j++)
            {
                Span<float> mean = means.AsSpan(j * d, d);
                mean.Clear();
                for (int i = 0; i < c; i++)
                {
                    TensorPrimitives.Add(mean, head.Slice((j * c + i) * d, d), mean);
                }

                TensorPrimitives.Divide(mean, c, mean);
                float score = float.PositiveInfinity;
                for (int i = 0; i < c; i++)
                {
                    score = Math.Min(score, Cosine(head.Slice((j * c + i) * d, d), mean));
                }

                minCosine[j] = score;
                order[j] = j;
            }

            // Smallest min-cosine first, lower chunk id on ties; the first o are the outliers.
            Array.Sort(order, (x, y) => minCosine[x] != minCosine[y] ? minCosine[x].CompareTo(minCosine[y]) : x.CompareTo(y));
            Span<int> outliers = outlierChunkIds.Slice(h * o, o);
            order.AsSpan(0, o).CopyTo(outliers);
            outliers.Sort();

            int next = 0, outlier = 0;
            for (int j = 0; j < nc; j++)
            {
                if (outlier < o && outliers[outlier] == j)
                {
                    outlier++;
                    continue;
                }

                landmarkChunkIds[h * nl + next] = j;
                means.AsSpan(j * d, d).CopyTo(landmarks.Slice((h * nl + next) * d, d));
                next++;
            }
        }
    }

    // cos(x, y); a zero vector has no direction, so it counts as orthogonal (0) rather than NaN.
    private static float Cosine(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        float norms = TensorPrimitives.Norm(x) * TensorPrimitives.Norm(y);
        return norms == 0 ? 0 : TensorPrimitives.Dot(x, y) / norms;
    }
}
