using System;
using ShadowKV.Runtime.Cpu.Kernels;

namespace ShadowKV.Runtime.Tests.Cpu;

// Layout: pre-RoPE keys K [S, D]; A [S, r]; B [r, D].
public sealed class LowRankKeysTests
{
    private static double SquaredError(float[] k, float[] a, float[] b, int S, int D, int r)
    {
        double total = 0;
        for (int t = 0; t < S; t++)
        {
            for (int i = 0; i < D; i++)
            {
                double rebuilt = 0;
                for (int l = 0; l < r; l++)
                {
                    rebuilt += (double)a[t * r + l] * b[l * D + i];
                }

                total += Math.Pow(k[t * D + i] - rebuilt, 2);
            }
        }

        return total;
    }

    [Fact]
    public void FullRankReconstructsTheKeys()
    {
        const int S = 45, D = 24;
        float[] k = TestData.Normal(30, S * D);
        float[] a = new float[S * D], b = new float[D * D];
        Assert.Equal(D, ShadowKvKernels.LowRankKeys(k, S, D, D, a, b));
        double energy = 0;
        foreach (float x in k)
        {
            energy += (double)x * x;
        }

        // float32 factors: the relative Frobenius error is a few float ulps times √D.
        Assert.True(Math.Sqrt(SquaredError(k, a, b, S, D, D) / energy) < 1e-5);
    }

    [Fact]
    public void RankRErrorEqualsTheTailEigenvalueEnergy()
    {
        const int S = 60, D = 16, r = 5;
        float[] k = TestData.Normal(31, S * D);
        float[] a = new float[S * r], b = new float[r * D];
        var eigenvalues = new double[D];
        Assert.Equal(r, ShadowKvKernels.LowRankKeys(k, S, D, r, a, b, eigenvalues));
        for (int j = 1; j < D; j++)
        {
            Assert.True(eigenvalues[j] <= eigenvalues[j - 1], "eigenvalues must be descending");
        }

        double tail = 0, all = 0;
        for (int j = 0; j < D; j++)
        {
            all += eigenvalues[j];
            tail += j >= r ? eigenvalues[j] : 0;
        }

        // Eckart–Young: the best rank-r error is exactly the dropped eigenvalue mass of KᵀK.
        Assert.True(Math.Abs(SquaredError(k, a, b, S, D, r) - tail) < 1e-5 * all, $"error vs tail {tail}");
    }

    [Fact]
    public void RankIsClampedToSAndDAndReported()
    {
        float[] k = TestData.Normal(32, 3 * 8);
        Assert.Equal(3, ShadowKvKernels.LowRankKeys(k, 3, 8, 6, new float[3 * 3], new float[3 * 8]));  // S < r
        Assert.Equal(4, ShadowKvKernels.LowRankKeys(k, 6, 4, 99, new float[6 * 4], new float[4 * 4])); // D < r
        Assert.Throws<ArgumentOutOfRangeException>(() => ShadowKvKernels.EffectiveRank(3, 8, 0));
    }

    [Fact]
    public void FactorsHaveDeterministicSigns()
    {
        const int S = 30, D = 12, r = 4;
        float[] k = TestData.Normal(33, S * D);
        float[] a = new float[S * r], b = new float[r * D];
        ShadowKvKernels.LowRankKeys(k, S, D, r, a, b);
        for (int j = 0; j < r; j++)
        {
            int largest = 0;
            for (int i = 1; i < D; i++)
            {
                largest = Math.Abs(b[j * D + i]) > Math.Abs(b[j * D + largest]) ? i : largest;
            }

            Assert.True(b[j * D + largest] > 0, $"row {j} of B has a negative largest component");
        }
    }

    [Fact]
    public void GramAccumulatesOverPrefillChunks()
    {
        const int S = 50, D = 10;
        float[] k = TestData.Normal(34, S * D);
        double[] whole = new double[D * D], chunked = new double[D * D];
        ShadowKvKernels.AccumulateKeyGram(k, D, whole);
        ShadowKvKernels.AccumulateKeyGram(k.AsSpan(0, 20 * D), D, chunked);
        ShadowKvKernels.AccumulateKeyGram(k.AsSpan(20 * D), D, chunked);
        for (int i = 0; i < D * D; i++)
        {
            Assert.Equal(whole[i], chunked[i], 1e-9);
        }
    }
}
