using System;

namespace ShadowKV.Runtime.Cpu.Kernels;

// Layout: x [T, H·d] (q with H = Hq, k with H = Hkv); head h in columns h·d … h·d + d − 1; positions [T];
// invFreq [d/2] from the caller (rope_theta and Llama-3.1 scaling are applied where it is computed).
// RoPE is Hugging Face's rotate-half form: the pairs are (i, i + d/2), not adjacent elements.

public static partial class CpuKernels
{
    /// <summary>
    /// Rotates every head of x in place by the angle pos[t] · invFreq[i], as HF computes it in float32:
    /// angle = (float)pos · invFreq[i] rounded to float, cos and sin of that float, then
    /// out[i] = x[i]·cos − x[i+d/2]·sin and out[i+d/2] = x[i+d/2]·cos + x[i]·sin.
    /// <paramref name="attentionScaling"/> multiplies cos and sin (HF's attention_scaling; 1 for Llama 3.1).
    /// </summary>
    public static void Rope(Span<float> x, int heads, int d, ReadOnlySpan<int> positions, ReadOnlySpan<float> invFreq, float attentionScaling = 1f)
    {
        int half = d / 2;
        if (d % 2 != 0 || invFreq.Length != half)
        {
            throw new ArgumentException($"RoPE needs an even head dim and invFreq of d/2 = {half} entries (got d = {d}, {invFreq.Length}).", nameof(invFreq));
        }

        RequireLength(x, (long)positions.Length * heads * d, nameof(x));
        Span<float> cos = half <= 256 ? stackalloc float[half] : new float[half];
        Span<float> sin = half <= 256 ? stackalloc float[half] : new float[half];
        for (int t = 0; t < positions.Length; t++)
        {
            RopeAngles(positions[t], invFreq, attentionScaling, cos, sin);
            for (int h = 0; h < heads; h++)
            {
                RotateHalf(x.Slice((t * heads + h) * d, d), cos, sin);
            }
        }
    }

    /// <summary>cos and sin [d/2] of the angles pos · invFreq[i], rounded as HF's float32 path rounds them.</summary>
    internal static void RopeAngles(int position, ReadOnlySpan<float> invFreq, float attentionScaling, Span<float> cos, Span<float> sin)
    {
        float p = position; // exact below 2^24
        for (int i = 0; i < invFreq.Length; i++)
        {
            float angle = p * invFreq[i];
            cos[i] = MathF.Cos(angle) * attentionScaling;
            sin[i] = MathF.Sin(angle) * attentionScaling;
        }
    }

    /// <summary>One head [d] in place; HF's q·cos + rotate_half(q)·sin with its float32 roundings.</summary>
    internal static void RotateHalf(Span<float> head, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin)
    {
        int half = cos.Length;
        for (int i = 0; i < half; i++)
        {
            float a = head[i], b = head[i + half];
            head[i] = a * cos[i] + -b * sin[i];
            head[i + half] = b * cos[i] + a * sin[i];
        }
    }
}
