using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using ShadowKV.Runtime.Cpu.Kernels;
using ShadowKV.Runtime.Engine.Checkpoints;

namespace ShadowKV.Gpu.Tests.Support;

/// <summary>
/// A seeded random Llama-3-shaped checkpoint written as a Hugging Face directory (config.json + model.safetensors,
/// bf16), and the straightforward f32 forward pass over the same (bf16-valued) weights composed from CpuKernels.
/// </summary>
internal sealed class RandomLlama
{
    public required int Hidden { get; init; }
    public required int Ffn { get; init; }
    public required int Layers { get; init; }
    public required int Hq { get; init; }
    public required int Hkv { get; init; }
    public required int HeadDim { get; init; }
    public required int Vocab { get; init; }
    public double RopeTheta { get; init; } = 500000.0;
    public float Eps { get; init; } = 1e-5f;

    public Dictionary<string, (int[] Shape, float[] Values)> Tensors { get; } = new(StringComparer.Ordinal);

    /// <summary>Weights ~ U(−a, a)·√3/√in (unit-variance outputs for unit inputs), norms 1 ± 0.1; all rounded to bf16.</summary>
    public RandomLlama Generate(int seed)
    {
        var random = new Random(seed);
        void Add(string name, int rows, int cols, double scale) =>
            Tensors[name] = (cols == 0 ? [rows] : [rows, cols],
                Enumerable.Range(0, rows * Math.Max(cols, 1)).Select(_ => Bf16.Round((float)((random.NextDouble() * 2 - 1) * scale))).ToArray());
        void AddNorm(string name, int n) =>
            Tensors[name] = ([n], Enumerable.Range(0, n).Select(_ => Bf16.Round((float)(1 + (random.NextDouble() * 2 - 1) * 0.1))).ToArray());
        double Unit(int fanIn) => Math.Sqrt(3.0 / fanIn);

        Add("model.embed_tokens.weight", Vocab, Hidden, 1.0);
        for (int l = 0; l < Layers; l++)
        {
            string p = $"model.layers.{l}.";
            AddNorm(p + "input_layernorm.weight", Hidden);
            Add(p + "self_attn.q_proj.weight", Hq * HeadDim, Hidden, Unit(Hidden));
            Add(p + "self_attn.k_proj.weight", Hkv * HeadDim, Hidden, Unit(Hidden));
            Add(p + "self_attn.v_proj.weight", Hkv * HeadDim, Hidden, Unit(Hidden));
            Add(p + "self_attn.o_proj.weight", Hidden, Hq * HeadDim, Unit(Hq * HeadDim));
            AddNorm(p + "post_attention_layernorm.weight", Hidden);
            Add(p + "mlp.gate_proj.weight", Ffn, Hidden, Unit(Hidden));
            Add(p + "mlp.up_proj.weight", Ffn, Hidden, Unit(Hidden));
            Add(p + "mlp.down_proj.weight", Hidden, Ffn, Unit(Ffn));
        }

        AddNorm("model.norm.weight", Hidden);
        Add("lm_head.weight", Vocab, Hidden, 3 * Unit(Hidden)); // logits of std ~3: clear top-1 margins
        return this;
    }

    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        string config = string.Create(CultureInfo.InvariantCulture, $$"""
            {
              "architectures": ["LlamaForCausalLM"], "model_type": "llama",
              "hidden_size": {{Hidden}}, "intermediate_size": {{Ffn}}, "num_hidden_layers": {{Layers}},
              "num_attention_heads": {{Hq}}, "num_key_value_heads": {{Hkv}}, "head_dim": {{HeadDim}},
              "vocab_size": {{Vocab}}, "max_position_embeddings": 131072, "rope_theta": {{RopeTheta}},
              "rms_norm_eps": {{Eps}}, "hidden_act": "silu", "tie_word_embeddings": false,
              "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "bfloat16"
            }
            """);
        File.WriteAllText(Path.Combine(directory, "config.json"), config);
        WriteSafetensors(Path.Combine(directory, "model.safetensors"), Tensors);
    }

    /// <summary>Writes bf16 tensors as one safetensors file.</summary>
    public static void WriteSafetensors(string path, IReadOnlyDictionary<string, (int[] Shape, float[] Values)> tensors)
    {
        var header = new StringBuilder("{");
        long offset = 0;
        foreach ((string name, (int[] shape, float[] values)) in tensors.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            long bytes = values.Length * 2L;
            header.Append(CultureInfo.InvariantCulture, $"\"{name}\":{{\"dtype\":\"BF16\",\"shape\":[{string.Join(",", shape)}],\"data_offsets\":[{offset},{offset + bytes}]}},");
            offset += bytes;
        }

        header.Append("\"__metadata__\":{\"format\":\"pt\"}}");
        while ((header.Length + 8) % 8 != 0)
        {
            header.Append(' ');
        }

        using var stream = File.Create(path);
        using var writer = new BinaryWriter(stream);
        byte[] headerBytes = Encoding.UTF8.GetBytes(header.ToString());
        writer.Write((ulong)headerBytes.Length);
        writer.Write(headerBytes);
        foreach ((_, (_, float[] values)) in tensors.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            foreach (float value in values)
            {
                writer.Write(Bf16.FromFloat(value));
            }
        }
    }

    /// <summary>
    /// The f32 forward pass of one sequence (positions 0 … n−1), straight from the operator definitions: embedding,
    /// then per layer rms_norm → q/k/v → RoPE → cache → causal GQA attention → o_proj + residual → rms_norm →
    /// silu(gate)·up → down_proj + residual; final norm and LM head on the last token. Returns its logits [vocab].
    /// </summary>
    public float[] ForwardLastLogits(int[] tokens)
    {
        int n = tokens.Length, qw = Hq * HeadDim, kw = Hkv * HeadDim;
        float[] invFreq = RopeFrequencies.Compute(HeadDim, RopeTheta, null);
        int[] positions = Enumerable.Range(0, n).ToArray();
        var x = new float[n * Hidden];
        CpuKernels.EmbeddingGather(tokens, W("model.embed_tokens.weight"), Hidden, x);
        var h = new float[n * Hidden];
        var q = new float[n * qw];
        var k = new float[n * kw];
        var v = new float[n * kw];
        var a = new float[n * qw];
        var o = new float[n * Hidden];
        var gate = new float[n * Ffn];
        var up = new float[n * Ffn];
        var kCache = new float[Hkv * n * HeadDim];
        var vCache = new float[Hkv * n * HeadDim];
        for (int l = 0; l < Layers; l++)
        {
            string p = $"model.layers.{l}.";
            CpuKernels.RmsNorm(x, W(p + "input_layernorm.weight"), Eps, h);
            CpuKernels.Linear(h, W(p + "self_attn.q_proj.weight"), default, Hidden, qw, q);
            CpuKernels.Linear(h, W(p + "self_attn.k_proj.weight"), default, Hidden, kw, k);
            CpuKernels.Linear(h, W(p + "self_attn.v_proj.weight"), default, Hidden, kw, v);
            CpuKernels.Rope(q, Hq, HeadDim, positions, invFreq);
            CpuKernels.Rope(k, Hkv, HeadDim, positions, invFreq);
            CpuKernels.KvAppend(k, v, Hkv, HeadDim, positions, kCache, vCache, n);
            CpuKernels.PrefillAttention(q, kCache, vCache, n, Hq, Hkv, HeadDim, 0, a);
            CpuKernels.Linear(a, W(p + "self_attn.o_proj.weight"), default, qw, Hidden, o);
            CpuKernels.AddRmsNorm(x, o, W(p + "post_attention_layernorm.weight"), Eps, h);
            CpuKernels.Linear(h, W(p + "mlp.gate_proj.weight"), default, Hidden, Ffn, gate);
            CpuKernels.Linear(h, W(p + "mlp.up_proj.weight"), default, Hidden, Ffn, up);
            CpuKernels.SiluMul(gate, up, gate);
            CpuKernels.Linear(gate, W(p + "mlp.down_proj.weight"), default, Ffn, Hidden, o);
            for (int i = 0; i < x.Length; i++)
            {
                x[i] += o[i];
            }
        }

        float[] last = x.AsSpan((n - 1) * Hidden, Hidden).ToArray();
        var final = new float[Hidden];
        CpuKernels.RmsNorm(last, W("model.norm.weight"), Eps, final);
        var logits = new float[Vocab];
        CpuKernels.Linear(final, W("lm_head.weight"), default, Hidden, Vocab, logits);
        return logits;
    }

    private float[] W(string name) => Tensors[name].Values;
}
