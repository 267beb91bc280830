using System;
using ShadowKV.Runtime.Cpu.Kernels;

namespace ShadowKV.Runtime.Tests.Cpu;

// Layout: q [n, Hq·d]; cache K, V [Hkv, capacity, d].
public sealed class AttentionTests
{
    // Naive causal GQA attention in double for the query at position p (keys 0 … p) and query head h.
    internal static double[] ReferenceAttention(ReadOnlySpan<float> qHead, float[] kCache, float[] vCache, int capacity, int kvHead, int p, int d)
    {
        var scores = new double[p + 1];
        double max = double.NegativeInfinity;
        for (int j = 0; j <= p; j++)
        {
            double dot = 0;
            for (int i = 0; i < d; i++)
            {
                dot += (double)qHead[i] * kCache[(kvHead * capacity + j) * d + i];
            }

            scores[j] = dot / Math.Sqrt(d);
            max = Math.Max(max, scores[j]);
        }

        double total = 0;
        for (int j = 0; j <= p; j++)
        {
            total += scores[j] = Math.Exp(scores[j] - max);
        }

        var output = new double[d];
        for (int j = 0; j <= p; j++)
        {
            for (int i = 0; i < d; i++)
            {
                output[i] += scores[j] / total * vCache[(kvHead * capacity + j) * d + i];
            }
        }

        return output;
    }

    [Theory]
    [InlineData(8, 2, 64, 0, 13)]   // GQA G = 4, one-shot prefill
    [InlineData(8, 2, 64, 9, 6)]    // chunked prefill: 9 tokens already cached
    [InlineData(4, 4, 32, 5, 3)]    // MHA
    [InlineData(8, 2, 64, 5, 37)]   // ≥ 16 tokens: the blocked Q·Kᵀ / P·V path, with a partial last block
    [InlineData(4, 4, 24, 0, 16)]   // blocked MHA, d not a multiple of 16
    public void PrefillAttentionMatchesNaiveCausalReference(int hq, int hkv, int d, int p0, int n)
    {
        const int capacity = 50; // larger than p0 + n: rows beyond the context hold garbage that must be ignored
        float[] q = TestData.Normal(20, n * hq * d);
        float[] kCache = TestData.Normal(21, hkv * capacity * d), vCache = TestData.Normal(22, hkv * capacity * d);
        var output = new float[q.Length];
        CpuKernels.PrefillAttention(q, kCache, vCache, capacity, hq, hkv, d, p0, output);
        var expected = new double[q.Length];
        for (int i = 0; i < n; i++)
        {
            for (int h = 0; h < hq; h++)
            {
                double[] head = ReferenceAttention(q.AsSpan((i * hq + h) * d, d), kCache, vCache, capacity, h / (hq / hkv), p0 + i, d);
                head.CopyTo(expected, (i * hq + h) * d);
            }
        }

        Assert.True(TestData.RelativeError(output, expected) < 1e-5);
    }

    [Fact]
    public void DecodeAttentionEqualsTheLastPrefillRow()
    {
        const int hq = 4, hkv = 1, d = 16, capacity = 12, length = 10;
        float[] q = TestData.Normal(23, length * hq * d);
        float[] kCache = TestData.Normal(24, hkv * capacity * d), vCache = TestData.Normal(25, hkv * capacity * d);
        var prefill = new float[q.Length];
        var decode = new float[hq * d];
        CpuKernels.PrefillAttention(q, kCache, vCache, capacity, hq, hkv, d, 0, prefill);
        CpuKernels.DecodeAttention(q.AsSpan((length - 1) * hq * d), kCache, vCache, capacity, length, hq, hkv, d, decode);
        Assert.Equal(prefill.AsSpan((length - 1) * hq * d).ToArray(), decode);
    }

    [Fact]
    public void AttentionRejectsContextsBeyondCapacityAndBadGroups()
    {
        float[] q = new float[2 * 4 * 8], cache = new float[2 * 4 * 8], output = new float[q.Length];
        Assert.Throws<ArgumentOutOfRangeException>(() => CpuKernels.PrefillAttention(q, cache, cache, 4, 4, 2, 8, 3, output));
        Assert.Throws<ArgumentException>(() => CpuKernels.PrefillAttention(q, cache, cache, 4, 3, 2, 8, 0, output));
    }
}
