using System;
using System.Collections.Generic;
using ShadowKV.Runtime.Cpu.Kernels;

namespace ShadowKV.Runtime.Tests.Cpu;

// Composes the CPU kernels into a Llama forward pass with a KV cache (what the plan executor will do) and
// checks it against the scalar double reference, which recomputes every position from the tokens alone.
public sealed class LlamaForwardTests(ITestOutputHelper output)
{
    // Layout: x, h [T, hidden]; q [T, Hq·d]; k, v [T, Hkv·d]; caches [Hkv, capacity, d] per layer; logits [T, V].
    private sealed class KernelLlama(ReferenceLlamaConfig c, IReadOnlyDictionary<string, float[]> w, int capacity)
    {
        private readonly float[] _invFreq = c.InvFreq();
        private readonly float[][] _kCache = Caches(c, capacity), _vCache = Caches(c, capacity);

        private static float[][] Caches(ReferenceLlamaConfig c, int capacity)
        {
            var caches = new float[c.Layers][];
            for (int l = 0; l < c.Layers; l++)
            {
                caches[l] = new float[c.Hkv * capacity * c.HeadDim];
            }

            return caches;
        }

        /// <summary>Logits [n, V] for n tokens of the sequence at positions p0 … p0 + n − 1 (n = 1: decode).</summary>
        public float[] Step(int[] tokens, int p0)
        {
            int T = tokens.Length, H = c.Hidden, d = c.HeadDim, qWidth = c.Hq * d, kvWidth = c.Hkv * d;
            var positions = new int[T];
            for (int t = 0; t < T; t++)
            {
                positions[t] = p0 + t;
            }

            float[] x = new float[T * H], h = new float[T * H], m = new float[T * H], o = new float[T * H], mlp = new float[T * H];
            float[] q = new float[T * qWidth], k = new float[T * kvWidth], v = new float[T * kvWidth], attention = new float[T * qWidth];
            float[] gate = new float[T * c.Intermediate], up = new float[T * c.Intermediate];
            CpuKernels.EmbeddingGather(tokens, w["model.embed_tokens.weight"], H, x);
            CpuKernels.RmsNorm(x, w["model.layers.0.input_layernorm.weight"], c.RmsEps, h);
            for (int l = 0; l < c.Layers; l++)
            {
                string p = $"model.layers.{l}.";
                CpuKernels.Linear(h, w[p + "self_attn.q_proj.weight"], Bias(p + "self_attn.q_proj.bias"), H, qWidth, q);
                CpuKernels.Linear(h, w[p + "self_attn.k_proj.weight"], Bias(p + "self_attn.k_proj.bias"), H, kvWidth, k);
                CpuKernels.Linear(h, w[p + "self_attn.v_proj.weight"], Bias(p + "self_attn.v_proj.bias"), H, kvWidth, v);
                CpuKernels.Rope(q, c.Hq, d, positions, _invFreq);
                CpuKernels.Rope(k, c.Hkv, d, positions, _invFreq);
                CpuKernels.KvAppend(k, v, c.Hkv, d, positions, _kCache[l], _vCache[l], capacity);
                if (T == 1)
                {
                    CpuKernels.DecodeAttention(q, _kCache[l], _vCache[l], capacity, p0 + 1, c.Hq, c.Hkv, d, attention);
                }
                else
                {
                    CpuKernels.PrefillAttention(q, _kCache[l], _vCache[l], capacity, c.Hq, c.Hkv, d, p0, attention);
                }

                CpuKernels.Linear(attention, w[p + "self_attn.o_proj.weight"], default, qWidth, H, o);
                CpuKernels.AddRmsNorm(x, o, w[p + "post_attention_layernorm.weight"], c.RmsEps, m);
                CpuKernels.Linear(m, w[p + "mlp.gate_proj.weight"], default, H, c.Intermediate, gate);
                CpuKernels.Linear(m, w[p + "mlp.up_proj.weight"], default, H, c.Intermediate, up);
                CpuKernels.SiluMul(gate, up, gate);
                CpuKernels.Linear(gate, w[p + "mlp.down_proj.weight"], default, c.Intermediate, H, mlp);

                // The MLP residual fuses with the next norm: the next layer's input norm, or the final norm.
                string nextNorm = l + 1 < c.Layers ? $"model.layers.{l + 1}.input_layernorm.weight" : "model.norm.weight";
                CpuKernels.AddRmsNorm(x, mlp, w[nextNorm], c.RmsEps, h);
            }

            var logits = new float[T * c.Vocab];
            CpuKernels.Linear(h, w["lm_head.weight"], default, H, c.Vocab, logits);
            return logits;
        }

        private ReadOnlySpan<float> Bias(string name) => w.TryGetValue(name, out float[]? b) ? b : default;
    }

    public static TheoryData<string> Models => ["llama3-gqa", "qwen-mha-bias"];

    private static ReferenceLlamaConfig Config(string name) => name switch
    {
        // Llama-3-shaped attention: head_dim 128, 4:1 GQA, θ = 500000. hidden = 256 < Hq·d = 512 (an explicit
        // head_dim, as HF allows) and intermediate = 3·hidden keep the scalar reference fast in a Debug build.
        "llama3-gqa" => new ReferenceLlamaConfig(Hidden: 256, Layers: 2, Hq: 4, Hkv: 1, HeadDim: 128, Intermediate: 768, Vocab: 256),
        // MHA with q/k/v bias and d = 64, as Qwen2-style models use.
        _ => new ReferenceLlamaConfig(Hidden: 256, Layers: 2, Hq: 4, Hkv: 4, HeadDim: 64, Intermediate: 512, Vocab: 128,
            RmsEps: 1e-6f, RopeTheta: 10000f, AttentionBias: true),
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void ChunkedPrefillThenDecodeMatchesTheReference(string model)
    {
        ReferenceLlamaConfig config = Config(model);
        Dictionary<string, float[]> weights = ReferenceLlama.RandomWeights(config, seed: 2024);
        var random = new Random(7);
        var tokens = new List<int>();
        for (int t = 0; t < 40; t++)
        {
            tokens.Add(random.Next(config.Vocab));
        }

        // Prefill in two chunks (25 + 15: the second attends to the cached first), then 3 greedy decode steps.
        var engine = new KernelLlama(config, weights, capacity: 64);
        var logits = new List<float>();
        logits.AddRange(engine.Step(tokens.GetRange(0, 25).ToArray(), 0));
        logits.AddRange(engine.Step(tokens.GetRange(25, 15).ToArray(), 25));
        for (int step = 0; step < 3; step++)
        {
            int next = CpuKernels.Argmax(logits.ToArray().AsSpan(logits.Count - config.Vocab));
            tokens.Add(next);
            logits.AddRange(engine.Step([next], tokens.Count - 1));
        }

        // The last decode step's logits are not checked through a next token, so the reference covers all 43
        // positions: 40 prompt tokens plus 3 generated ones.
        double[] expected = ReferenceLlama.Forward(config, weights, tokens.GetRange(0, 43));
        double error = TestData.RelativeError(logits.ToArray(), expected);
        output.WriteLine($"{model}: max |kernel − reference| / max |logit| = {error:E2}");

        // Measured ≈ 4e-7 of the logit scale. float32 rounds at 2^-24 ≈ 6e-8 per operation; dots over ≤ 768 terms
        // and two layers of dependent norms, softmaxes and residuals grow that by tens, and TensorPrimitives'
        // summation order changes with the CPU's vector width. 1e-5 leaves that margin (25× the measurement),
        // while a real defect (wrong RoPE pairing or KV-head mapping, a missing bias, an off-by-one in the causal
        // mask or chunk offset, an aliasing bug) moves logits by 1e-2 or more.
        Assert.True(error < 1e-5, $"relative logit error {error}");
    }
}
