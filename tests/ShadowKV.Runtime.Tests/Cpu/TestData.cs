using System;

namespace ShadowKV.Runtime.Tests.Cpu;

/// <summary>Seeded random tensors and comparison helpers for the CPU-backend tests.</summary>
internal static class TestData
{
    /// <summary>Standard normal values (Box–Muller over a fixed-seed generator) times <paramref name="scale"/>.</summary>
    public static float[] Normal(int seed, int count, float scale = 1f)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            double u1 = 1 - random.NextDouble(), u2 = random.NextDouble();
            values[i] = (float)(scale * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }

        return values;
    }

    /// <summary>HF's default inverse frequencies 1 / θ^(2i/d), computed in float32 as transformers does.</summary>
    public static float[] InvFreq(int d, float theta = 500000f)
    {
        var invFreq = new float[d / 2];
        for (int i = 0; i < d / 2; i++)
        {
            invFreq[i] = 1f / MathF.Pow(theta, (float)(2 * i) / d);
        }

        return invFreq;
    }

    /// <summary>max |a − b| / max(max |b|, floor): an error relative to the scale of the expected values.</summary>
    public static double RelativeError(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected, double floor = 1e-6)
    {
        Assert.Equal(expected.Length, actual.Length);
        double maxDiff = 0, maxExpected = floor;
        for (int i = 0; i < actual.Length; i++)
        {
            maxDiff = Math.Max(maxDiff, Math.Abs(actual[i] - expected[i]));
            maxExpected = Math.Max(maxExpected, Math.Abs(expected[i]));
        }

        return maxDiff / maxExpected;
    }

    public static double RelativeError(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, double floor = 1e-6)
    {
        var wide = new double[expected.Length];
        for (int i = 0; i < wide.Length; i++)
        {
            wide[i] = expected[i];
        }

        return RelativeError(actual, wide, floor);
    }

    public static double Cosine(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        double dot = 0, xx = 0, yy = 0;
        for (int i = 0; i < x.Length; i++)
        {
            dot += (double)x[i] * y[i];
            xx += (double)x[i] * x[i];
            yy += (double)y[i] * y[i];
        }

        return dot / Math.Sqrt(xx * yy);
    }
}
