using System;
using System.Collections.Generic;

namespace ShadowKV.Runtime.Tests.Cpu;

/// <summary>Shape of a Llama-family model for the scalar reference (HF config.json names in comments).</summary>
public sealed record ReferenceLlamaConfig(
    int Hidden,            // hidden_size
    int Layers,            // num_hidden_layers
    int Hq,                // num_attention_heads
    int Hkv,               // num_key_value_heads
    int HeadDim,           // head_dim (d)
    int Intermediate,      // intermediate_size
    int Vocab,             // vocab_size
    float RmsEps = 1e-5f,  // rms_norm_eps
    float RopeTheta = 500000f,
    bool AttentionBias = false) // Qwen2-style q/k/v bias
{
    /// <summary>HF's inv_freq = 1 / θ^(2i/d) computed in float32 (the input every RoPE implementation is given).</summary>
    public float[] InvFreq()
    {
        var invFreq = new float[HeadDim / 2];
        for (int i = 0; i < invFreq.Length; i++)
        {
            invFreq[i] = 1f / MathF.Pow(RopeTheta, (float)(2 * i) / HeadDim);
        }

        return invFreq;
    }
}

/// <summary>
/// An independent, deliberately plain Llama forward pass: scalar loops, double accumulation, full causal
/// recompute over all tokens (no KV cache), no code shared with the kernels. Weights are a dictionary of
/// float arrays under Hugging Face names, so any test (or a real checkpoint loader) can feed it.
/// </summary>
public static class ReferenceLlama
{
    /// <summary>Seeded random weights under HF names; linear weights scaled by 1/√in so activations stay O(1).</summary>
    public static Dictionary<string, float[]> RandomWeights(ReferenceLlamaConfig c, int seed)
    {
        int qWidth = c.Hq * c.HeadDim, kvWidth = c.Hkv * c.HeadDim;
        var weights = new Dictionary<string, float[]>(StringComparer.Ordinal);
        void Add(string name, int count, float scale, float offset = 0)
        {
            float[] values = TestData.Normal(seed + weights.Count * 7919, count, scale);
            for (int i = 0; i < count; i++)
            {
                values[i] += offset;
            }

            weights.Add(name, values);
        }

        Add("model.embed_tokens.weight", c.Vocab * c.Hidden, 1f);
        for (int l = 0; l < c.Layers; l++)
        {
            string p = $"model.layers.{l}.";
            Add(p + "input_layernorm.weight", c.Hidden, 0.1f, 1f);
            Add(p + "self_attn.q_proj.weight", qWidth * c.Hidden, 1f / MathF.Sqrt(c.Hidden));
            Add(p + "self_attn.k_proj.weight", kvWidth * c.Hidden, 1f / MathF.Sqrt(c.Hidden));
            Add(p + "self_attn.v_proj.weight", kvWidth * c.Hidden, 1f / MathF.Sqrt(c.Hidden));
            if (c.AttentionBias)
            {
                Add(p + "self_attn.q_proj.bias", qWidth, 0.1f);
                Add(p + "self_attn.k_proj.bias", kvWidth, 0.1f);
                Add(p + "self_attn.v_proj.bias", kvWidth, 0.1f);
            }

            Add(p + "self_attn.o_proj.weight", c.Hidden * qWidth, 1f / MathF.Sqrt(qWidth));
            Add(p + "post_attention_layernorm.weight", c.Hidden, 0.1f, 1f);
            Add(p + "mlp.gate_proj.weight", c.Intermediate * c.Hidden, 1f / MathF.Sqrt(c.Hidden));
            Add(p + "mlp.up_proj.weight", c.Intermediate * c.Hidden, 1f / MathF.Sqrt(c.Hidden));
            Add(p + "mlp.down_proj.weight", c.Hidden * c.Intermediate, 1f / MathF.Sqrt(c.Intermediate));
        }

        Add("model.norm.weight", c.Hidden, 0.1f, 1f);
        Add("lm_head.weight", c.Vocab * c.Hidden, 1f / MathF.Sqrt(c.Hidden));
        return weights;
    }

    /// <summary>Logits [T, V] of every position for tokens at positions 0 … T − 1.</summary>
    public static double[] Forward(ReferenceLlamaConfig c, IReadOnlyDictionary<string, float[]> w, IReadOnlyList<int> tokens)
    {
        int T = tokens.Count, H = c.Hidden, d = c.HeadDim, qWidth = c.Hq * d, kvWidth = c.Hkv * d;
        var x = new double[T * H];
        float[] embedding = w["model.embed_tokens.weight"];
        for (int t = 0; t < T; t++)
        {
            for (int i = 0; i < H; i++)
            {
                x[t * H + i] = embedding[tokens[t] * H + i];
            }
        }

        float[] invFreq = c.InvFreq();
        for (int l = 0; l < c.Layers; l++)
        {
            string p = $"model.layers.{l}.";
            double[] h = Norm(x, w[p + "input_layernorm.weight"], c.RmsEps);
            double[] q = Project(h, w[p + "self_attn.q_proj.weight"], Bias(w, p + "self_attn.q_proj.bias"), H, qWidth);
            double[] k = Project(h, w[p + "self_attn.k_proj.weight"], Bias(w, p + "self_attn.k_proj.bias"), H, kvWidth);
            double[] v = Project(h, w[p + "self_attn.v_proj.weight"], Bias(w, p + "self_attn.v_proj.bias"), H, kvWidth);
            Rotate(q, c.Hq, d, invFreq);
            Rotate(k, c.Hkv, d, invFreq);
            double[] attention = CausalAttention(q, k, v, T, c.Hq, c.Hkv, d);
            Accumulate(x, Project(attention, w[p + "self_attn.o_proj.weight"], null, qWidth, H));

            double[] m = Norm(x, w[p + "post_attention_layernorm.weight"], c.RmsEps);
            double[] gate = Project(m, w[p + "mlp.gate_proj.weight"], null, H, c.Intermediate);
            double[] up = Project(m, w[p + "mlp.up_proj.weight"], null, H, c.Intermediate);
            for (int i = 0; i < gate.Length; i++)
            {
                gate[i] = gate[i] / (1 + Math.Exp(-gate[i])) * up[i];
            }

            Accumulate(x, Project(gate, w[p + "mlp.down_proj.weight"], null, c.Intermediate, H));
        }

        return Project(Norm(x, w["model.norm.weight"], c.RmsEps), w["lm_head.weight"], null, H, c.Vocab);
    }

    private static float[]? Bias(IReadOnlyDictionary<string, float[]> w, string name) => w.TryGetValue(name, out float[]? b) ? b : null;

    private static double[] Norm(double[] x, float[] weight, float eps)
    {
        int H = weight.Length;
        var y = new double[x.Length];
        for (int t = 0; t < x.Length / H; t++)
        {
            double sum = 0;
            for (int i = 0; i < H; i++)
            {
                sum += x[t * H + i] * x[t * H + i];
            }

            double scale = 1 / Math.Sqrt(sum / H + eps);
            for (int i = 0; i < H; i++)
            {
                y[t * H + i] = x[t * H + i] * scale * weight[i];
            }
        }

        return y;
    }

    // y [T, out] = x [T, in] · Wᵀ + bias, W [out, in].
    private static double[] Project(double[] x, float[] weight, float[]? bias, int inFeatures, int outFeatures)
    {
        int T = x.Length / inFeatures;
        var y = new double[T * outFeatures];
        for (int t = 0; t < T; t++)
        {
            for (int o = 0; o < outFeatures; o++)
            {
                double sum = bias?[o] ?? 0;
                for (int i = 0; i < inFeatures; i++)
                {
                    sum += x[t * inFeatures + i] * weight[o * inFeatures + i];
                }

                y[t * outFeatures + o] = sum;
            }
        }

        return y;
    }

    // Rotate-half RoPE at position t for every head of row t.
    private static void Rotate(double[] x, int heads, int d, float[] invFreq)
    {
        int T = x.Length / (heads * d), half = d / 2;
        for (int t = 0; t < T; t++)
        {
            for (int h = 0; h < heads; h++)
            {
                int at = (t * heads + h) * d;
                for (int i = 0; i < half; i++)
                {
                    double angle = t * (double)invFreq[i], a = x[at + i], b = x[at + i + half];
                    x[at + i] = a * Math.Cos(angle) - b * Math.Sin(angle);
                    x[at + i + half] = b * Math.Cos(angle) + a * Math.Sin(angle);
                }
            }
        }
    }

    private static double[] CausalAttention(double[] q, double[] k, double[] v, int T, int hq, int hkv, int d)
    {
        var output = new double[T * hq * d];
        var weights = new double[T];
        for (int t = 0; t < T; t++)
        {
            for (int h = 0; h < hq; h++)
            {
                int kvHead = h / (hq / hkv);
                double max = double.NegativeInfinity, total = 0;
                for (int j = 0; j <= t; j++)
                {
                    double dot = 0;
                    for (int i = 0; i < d; i++)
                    {
                        dot += q[(t * hq + h) * d + i] * k[(j * hkv + kvHead) * d + i];
                    }

                    weights[j] = dot / Math.Sqrt(d);
                    max = Math.Max(max, weights[j]);
                }

                for (int j = 0; j <= t; j++)
                {
                    total += weights[j] = Math.Exp(weights[j] - max);
                }

                for (int j = 0; j <= t; j++)
                {
                    for (int i = 0; i < d; i++)
                    {
                        output[(t * hq + h) * d + i] += weights[j] / total * v[(j * hkv + kvHead) * d + i];
                    }
                }
            }
        }

        return output;
    }

    private static void Accumulate(double[] x, double[] y)
    {
        for (int i = 0; i < x.Length; i++)
        {
            x[i] += y[i];
        }
    }
}
