using System;
using ShadowKV.Runtime.Cpu.Kernels;

namespace ShadowKV.Runtime.Tests.Cpu;

public sealed class ElementwiseTests
{
    [Fact]
    public void EmbeddingGatherCopiesRowsAndRejectsUnknownTokens()
    {
        float[] table = TestData.Normal(1, 5 * 3);
        var x = new float[2 * 3];
        CpuKernels.EmbeddingGather([4, 0], table, 3, x);
        Assert.Equal(table.AsSpan(12, 3).ToArray(), x.AsSpan(0, 3).ToArray());
        Assert.Equal(table.AsSpan(0, 3).ToArray(), x.AsSpan(3, 3).ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => CpuKernels.EmbeddingGather([5], table, 3, x));
    }

    [Fact]
    public void RmsNormMatchesDoubleDefinition()
    {
        const int T = 70, hidden = 96; // T above the parallel grain
        const float eps = 1e-5f;
        float[] x = TestData.Normal(2, T * hidden, 3f), w = TestData.Normal(3, hidden);
        var y = new float[x.Length];
        CpuKernels.RmsNorm(x, w, eps, y);
        var expected = new double[x.Length];
        for (int t = 0; t < T; t++)
        {
            double sum = 0;
            for (int i = 0; i < hidden; i++)
            {
                sum += (double)x[t * hidden + i] * x[t * hidden + i];
            }

            double scale = 1 / Math.Sqrt(sum / hidden + eps);
            for (int i = 0; i < hidden; i++)
            {
                expected[t * hidden + i] = x[t * hidden + i] * scale * w[i];
            }
        }

        Assert.True(TestData.RelativeError(y, expected) < 1e-6);
    }

    [Fact]
    public void AddRmsNormUpdatesResidualAndNormalizesTheSum()
    {
        const int hidden = 32;
        float[] x = TestData.Normal(4, 3 * hidden), y = TestData.Normal(5, 3 * hidden), w = TestData.Normal(6, hidden);
        float[] sum = new float[x.Length], expected = new float[x.Length], h = new float[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            sum[i] = x[i] + y[i];
        }

        CpuKernels.RmsNorm(sum, w, 1e-6f, expected);
        CpuKernels.AddRmsNorm(x, y, w, 1e-6f, h);
        Assert.Equal(sum, x);
        Assert.Equal(expected, h);
    }

    [Fact]
    public void SiluMulIsGateTimesSigmoidTimesUp()
    {
        float[] gate = [-3f, 0f, 2f], up = [2f, 5f, -1f], output = new float[3];
        CpuKernels.SiluMul(gate, up, output);
        for (int i = 0; i < 3; i++)
        {
            double expected = gate[i] / (1 + Math.Exp(-gate[i])) * up[i];
            Assert.Equal(expected, output[i], 1e-6);
        }

        // In place over a gate longer than the internal block, as the executor reuses the gate buffer.
        float[] longGate = TestData.Normal(13, 1500), longUp = TestData.Normal(14, 1500), separate = new float[1500];
        CpuKernels.SiluMul(longGate, longUp, separate);
        CpuKernels.SiluMul(longGate, longUp, longGate);
        Assert.Equal(separate, longGate);
    }

    [Fact]
    public void SoftmaxIsStableForLargeLogits()
    {
        float[] x = [1000f, 1001f, -float.MaxValue];
        CpuKernels.Softmax(x);
        double e = Math.Exp(-1);
        Assert.Equal(e / (1 + e), x[0], 1e-6);
        Assert.Equal(1 / (1 + e), x[1], 1e-6);
        Assert.Equal(0f, x[2]);
    }

    [Fact]
    public void ArgmaxPrefersLowestIndexOnTiesAndSkipsNaN()
    {
        Assert.Equal(1, CpuKernels.Argmax([0f, 3f, 3f, 1f]));
        Assert.Equal(2, CpuKernels.Argmax([float.NaN, -5f, 2f, float.NaN]));
        Assert.Throws<ArgumentException>(() => CpuKernels.Argmax([]));
    }

    [Fact]
    public void LinearMatchesDoubleDotsWithBiasAcrossTiles()
    {
        // 37 tokens and 150 rows are not tile multiples and 51 inputs not a vector multiple, so every edge of the
        // micro-kernel runs; decode shape T = 1 too.
        foreach (int T in new[] { 1, 37 })
        {
            const int inFeatures = 51, outFeatures = 150;
            float[] x = TestData.Normal(7, T * inFeatures), w = TestData.Normal(8, outFeatures * inFeatures), b = TestData.Normal(9, outFeatures);
            var y = new float[T * outFeatures];
            CpuKernels.Linear(x, w, b, inFeatures, outFeatures, y);
            var expected = new double[y.Length];
            for (int t = 0; t < T; t++)
            {
                for (int o = 0; o < outFeatures; o++)
                {
                    double sum = b[o];
                    for (int i = 0; i < inFeatures; i++)
                    {
                        sum += (double)x[t * inFeatures + i] * w[o * inFeatures + i];
                    }

                    expected[t * outFeatures + o] = sum;
                }
            }

            Assert.True(TestData.RelativeError(y, expected) < 1e-5, $"T = {T}");
        }
    }

    [Fact]
    public void RopeRotatesPairsHalfADimensionApart()
    {
        const int d = 8, heads = 2;
        float[] invFreq = TestData.InvFreq(d, 10000f);
        float[] x = TestData.Normal(10, 2 * heads * d), original = (float[])x.Clone();
        int[] positions = [0, 7];
        CpuKernels.Rope(x, heads, d, positions, invFreq);
        Assert.Equal(original.AsSpan(0, heads * d).ToArray(), x.AsSpan(0, heads * d).ToArray()); // position 0: identity
        for (int h = 0; h < heads; h++)
        {
            for (int i = 0; i < d / 2; i++)
            {
                double angle = 7.0 * invFreq[i];
                int at = heads * d + h * d;
                double a = original[at + i], b = original[at + i + d / 2];
                Assert.Equal(a * Math.Cos(angle) - b * Math.Sin(angle), x[at + i], 1e-5);
                Assert.Equal(b * Math.Cos(angle) + a * Math.Sin(angle), x[at + i + d / 2], 1e-5);
            }
        }
    }

    [Fact]
    public void KvAppendWritesRowsAtPositionsAndRejectsOverflow()
    {
        const int hkv = 2, d = 4, capacity = 5;
        float[] k = TestData.Normal(11, 2 * hkv * d), v = TestData.Normal(12, 2 * hkv * d);
        float[] kCache = new float[hkv * capacity * d], vCache = new float[hkv * capacity * d];
        CpuKernels.KvAppend(k, v, hkv, d, [3, 4], kCache, vCache, capacity);
        Assert.Equal(k.AsSpan(d, d).ToArray(), kCache.AsSpan((1 * capacity + 3) * d, d).ToArray()); // token 0, head 1
        Assert.Equal(v.AsSpan(hkv * d, d).ToArray(), vCache.AsSpan(4 * d, d).ToArray());            // token 1, head 0
        Assert.Throws<ArgumentOutOfRangeException>(() => CpuKernels.KvAppend(k, v, hkv, d, [4, 5], kCache, vCache, capacity));
    }
}
