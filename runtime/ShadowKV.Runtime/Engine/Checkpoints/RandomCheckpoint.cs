using System;
using System.Collections.Generic;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Threading.Tasks;
using ShadowKV.Runtime.Cuda;

namespace ShadowKV.Runtime.Engine.Checkpoints;

/// <summary>
/// The built-in random model's weights: every tensor a Llama-family checkpoint of a config's shape holds, under
/// Hugging Face names, as bf16 in native memory. It is a <see cref="SafetensorsCheckpoint"/>, so it binds and uploads
/// exactly like a downloaded one — on the CPU and on the GPU, where it lets benchmarks run 8B shapes with no download.
/// </summary>
/// <remarks>
/// Linear weights have standard deviation 1/√fan_in so activations stay O(1); the embedding has standard deviation 1;
/// norm weights are 1 with standard deviation 0.1 (off 1, so a kernel that ignores them is caught). Values are
/// uniform with that standard deviation (as PyTorch's <c>nn.Linear</c> initialisation) rather than normal: one 64-bit
/// hash gives four 16-bit uniforms, which fills an 8B-parameter model in seconds on a multi-core host. Each value is a
/// pure function of (seed, tensor name, index) — a counter-based generator — so the weights are the same on every
/// machine, .NET version and thread count.
/// </remarks>
public static unsafe class RandomCheckpoint
{
    /// <summary>What stands in for the file path in messages.</summary>
    public const string Label = "random weights";

    private const int BlockValues = 1 << 16; // values per work item: a multiple of the 4 values one hash gives
    private const long Alignment = 256;      // tensor offsets, as a GPU copy likes them

    private sealed record TensorSpec(string Name, long[] Shape, double Std, float Mean)
    {
        public long Count => Shape.Length == 1 ? Shape[0] : Shape[0] * Shape[1];
    }

    /// <summary>
    /// The weights of <paramref name="config"/>'s shape from <paramref name="seed"/>. Dispose the checkpoint once a
    /// backend holds its own copy. Not enough host memory is a <see cref="CheckpointException"/> naming the size.
    /// </summary>
    public static SafetensorsCheckpoint Create(ModelConfig config, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(config);
        List<TensorSpec> specs = Tensors(config);
        var entries = new List<SafetensorsEntry>(specs.Count);
        long length = 0;
        foreach (TensorSpec spec in specs)
        {
            entries.Add(new SafetensorsEntry(spec.Name, SafetensorsDType.BF16, spec.Shape, length, spec.Count * 2));
            length += (spec.Count * 2 + Alignment - 1) / Alignment * Alignment;
        }

        string label = $"{Label} (seed {seed})";
        // Linux overcommits: an allocation larger than memory succeeds and the fill is killed by the OOM killer, so
        // the size is checked against MemAvailable first.
        long available = AdmissionControl.ReadHostAvailableBytes();
        if (length > available)
        {
            throw new CheckpointException(label, null,
                $"the model's bf16 weights need {AdmissionControl.Format(length)} of host memory, but only {AdmissionControl.Format(available)} is available " +
                $"(MemAvailable; set {AdmissionControl.HostAvailableVariable} to override).");
        }

        byte* block;
        try
        {
            block = (byte*)NativeMemory.Alloc((nuint)Math.Max(length, 1));
        }
        catch (OutOfMemoryException e)
        {
            throw new CheckpointException(label, null, $"{length / (1 << 20)} MiB of host memory for the model's bf16 weights could not be allocated.", e);
        }

        try
        {
            Fill(block, specs, entries, seed);
            return SafetensorsCheckpoint.FromFile(SafetensorsFile.FromNativeMemory(label, block, length, entries));
        }
        catch
        {
            NativeMemory.Free(block);
            throw;
        }
    }

    // The tensors of a Llama-family checkpoint (Llama, Mistral, Qwen2 with its q/k/v biases), in file order.
    private static List<TensorSpec> Tensors(ModelConfig config)
    {
        long hidden = config.HiddenSize, ffn = config.IntermediateSize, vocab = config.VocabSize;
        long qWidth = config.NumAttentionHeads * config.HeadDim, kvWidth = config.NumKeyValueHeads * config.HeadDim;
        var specs = new List<TensorSpec> { new("model.embed_tokens.weight", [vocab, hidden], 1, 0) };
        TensorSpec Linear(string name, long rows, long columns) => new(name, [rows, columns], 1 / Math.Sqrt(columns), 0);
        TensorSpec Norm(string name) => new(name, [hidden], 0.1, 1);
        for (int l = 0; l < config.NumHiddenLayers; l++)
        {
            string p = "model.layers." + l.ToString(CultureInfo.InvariantCulture) + ".";
            specs.Add(Norm(p + "input_layernorm.weight"));
            specs.Add(Linear(p + "self_attn.q_proj.weight", qWidth, hidden));
            specs.Add(Linear(p + "self_attn.k_proj.weight", kvWidth, hidden));
            specs.Add(Linear(p + "self_attn.v_proj.weight", kvWidth, hidden));
            if (config.AttentionBias)
            {
                specs.Add(new(p + "self_attn.q_proj.bias", [qWidth], 0.1, 0));
                specs.Add(new(p + "self_attn.k_proj.bias", [kvWidth], 0.1, 0));
                specs.Add(new(p + "self_attn.v_proj.bias", [kvWidth], 0.1, 0));
            }

            specs.Add(Linear(p + "self_attn.o_proj.weight", hidden, qWidth));
            specs.Add(Norm(p + "post_attention_layernorm.weight"));
            specs.Add(Linear(p + "mlp.gate_proj.weight", ffn, hidden));
            specs.Add(Linear(p + "mlp.up_proj.weight", ffn, hidden));
            specs.Add(Linear(p + "mlp.down_proj.weight", hidden, ffn));
        }

        specs.Add(Norm("model.norm.weight"));
        if (!config.TieWordEmbeddings)
        {
            specs.Add(Linear("lm_head.weight", vocab, hidden));
        }

        return specs;
    }

    private static void Fill(byte* block, List<TensorSpec> specs, List<SafetensorsEntry> entries, ulong seed)
    {
        // Work items of BlockValues values across all tensors, so small tensors do not serialise the fill.
        var items = new List<(int Tensor, long Start)>();
        var keys = new ulong[specs.Count];
        for (int t = 0; t < specs.Count; t++)
        {
            keys[t] = Mix(seed ^ NameHash(specs[t].Name));
            for (long start = 0; start < specs[t].Count; start += BlockValues)
            {
                items.Add((t, start));
            }
        }

        Parallel.For(0, items.Count, i =>
        {
            (int t, long start) = items[i];
            TensorSpec spec = specs[t];
            ushort* values = (ushort*)(block + entries[t].FileOffset);
            long end = Math.Min(start + BlockValues, spec.Count);
            // A uniform on [-√3·std, √3·std] has standard deviation std.
            double halfWidth = Math.Sqrt(3) * spec.Std;
            for (long group = start / 4; group * 4 < end; group++)
            {
                ulong bits = Mix(keys[t] + (ulong)group * 0x9E3779B97F4A7C15UL);
                for (int lane = 0; lane < 4 && group * 4 + lane < end; lane++)
                {
                    double unit = (((bits >> (16 * lane)) & 0xFFFF) + 0.5) / 32768.0 - 1.0; // in (-1, 1)
                    values[group * 4 + lane] = FloatConversions.SingleToBFloat16(spec.Mean + (float)(halfWidth * unit));
                }
            }
        });
    }

    // SplitMix64's finaliser: a bijective mix whose outputs pass BigCrush for consecutive inputs.
    private static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    // FNV-1a over the name's UTF-16 code units: stable across runtimes, unlike string.GetHashCode.
    private static ulong NameHash(string name)
    {
        ulong hash = 0xCBF29CE484222325UL;
        foreach (char c in name)
        {
            hash = (hash ^ c) * 0x100000001B3UL;
        }

        return hash;
    }
}
