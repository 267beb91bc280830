using System;
using ShadowKV.Runtime.Cpu.Kernels;

namespace ShadowKV.Runtime.Tests.Cpu;

public sealed class SymmetricEigenTests
{
    // Checks A·v = λ·v for every pair and VᵀV = I, relative to the matrix scale.
    private static void AssertDecomposition(double[] a, int n)
    {
        var values = new double[n];
        var vectors = new double[n * n];
        SymmetricEigen.Decompose(a, n, values, vectors);
        double scale = 1e-300;
        foreach (double x in a)
        {
            scale = Math.Max(scale, Math.Abs(x));
        }

        for (int j = 0; j < n; j++)
        {
            for (int i = 0; i < n; i++)
            {
                double av = 0;
                for (int k = 0; k < n; k++)
                {
                    av += a[i * n + k] * vectors[j * n + k];
                }

                Assert.True(Math.Abs(av - values[j] * vectors[j * n + i]) < 1e-10 * scale * n, $"n = {n}: residual of pair {j} at {i}");
            }

            for (int other = 0; other < n; other++)
            {
                double dot = 0;
                for (int k = 0; k < n; k++)
                {
                    dot += vectors[j * n + k] * vectors[other * n + k];
                }

                Assert.True(Math.Abs(dot - (j == other ? 1 : 0)) < 1e-10 * n, $"n = {n}: vectors {j}, {other} not orthonormal ({dot})");
            }
        }
    }

    private static double[] RandomSymmetric(int seed, int n)
    {
        float[] x = TestData.Normal(seed, n * n);
        var a = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                a[i * n + j] = x[i * n + j] + x[j * n + i];
            }
        }

        return a;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(17)]
    [InlineData(96)]
    public void RandomSymmetricMatricesDecompose(int n) => AssertDecomposition(RandomSymmetric(n, n), n);

    [Fact]
    public void DegenerateMatricesDecompose()
    {
        AssertDecomposition(new double[16], 4);                       // zero matrix
        AssertDecomposition([1, 0, 0, 0, 1, 0, 0, 0, 1], 3);          // identity: one eigenvalue, any basis
        AssertDecomposition([2, 0, 0, 0, -1, 0, 0, 0, 2], 3);         // already diagonal with a repeat
        var rankOne = new double[25];                                 // u·uᵀ: four zero eigenvalues
        double[] u = [1, -2, 0.5, 3, 0];
        for (int i = 0; i < 5; i++)
        {
            for (int j = 0; j < 5; j++)
            {
                rankOne[i * 5 + j] = u[i] * u[j];
            }
        }

        AssertDecomposition(rankOne, 5);
        AssertDecomposition([1e-300, 1e-300, 1e-300, 3e-300], 2);     // tiny values must not underflow to garbage
    }

    [Fact]
    public void GramOfFewerRowsThanColumnsDecomposes()
    {
        // KᵀK of 10 keys in 48 dimensions: 38 eigenvalues are 0 up to rounding (the D > S prefill case).
        const int S = 10, D = 48;
        float[] k = TestData.Normal(60, S * D);
        var gram = new double[D * D];
        for (int i = 0; i < D; i++)
        {
            for (int j = 0; j < D; j++)
            {
                for (int t = 0; t < S; t++)
                {
                    gram[i * D + j] += (double)k[t * D + i] * k[t * D + j];
                }
            }
        }

        AssertDecomposition(gram, D);
    }
}
