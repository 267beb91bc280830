using System;
using System.Collections.Generic;

namespace ShadowKV.Runtime.Engine.Checkpoints;

/// <summary>
/// The shape and hyper-parameters of a decoder-only transformer, read from a Hugging Face <c>config.json</c>
/// (<see cref="Load"/>, <see cref="Parse"/>) or taken from <see cref="Presets"/>.
/// </summary>
public sealed partial record ModelConfig
{
    /// <summary>Hugging Face <c>architectures</c>, e.g. <c>LlamaForCausalLM</c>.</summary>
    public IReadOnlyList<string> Architectures { get; init; } = Array.Empty<string>();

    /// <summary>Hugging Face <c>model_type</c>: llama, mistral, qwen2, …</summary>
    public string ModelType { get; init; } = "";

    public long HiddenSize { get; init; }

    public long IntermediateSize { get; init; }

    public long NumHiddenLayers { get; init; }

    public long NumAttentionHeads { get; init; }

    public long NumKeyValueHeads { get; init; }

    public long HeadDim { get; init; }

    public long VocabSize { get; init; }

    public long MaxPositionEmbeddings { get; init; }

    public double RopeTheta { get; init; } = 10000.0;

    public double RmsNormEps { get; init; } = 1e-6;

    public bool TieWordEmbeddings { get; init; }

    public int? BosTokenId { get; init; }

    /// <summary>Every id that ends generation (config.json allows one id or a list).</summary>
    public IReadOnlyList<int> EosTokenIds { get; init; } = Array.Empty<int>();

    /// <summary>Whether q/k/v projections carry a bias (always true for Qwen2).</summary>
    public bool AttentionBias { get; init; }

    /// <summary>Null when RoPE frequencies are unscaled.</summary>
    public RopeScaling? RopeScaling { get; init; }

    /// <summary>Hugging Face <c>torch_dtype</c> (<c>bfloat16</c>, <c>float16</c>, <c>float32</c>), when given.</summary>
    public string? TorchDtype { get; init; }

    /// <summary>Query heads per key/value head.</summary>
    public long GroupSize => NumAttentionHeads / NumKeyValueHeads;

    /// <summary>
    /// The symbols the plan's size expressions use: hidden, ffn, vocab, Hq, Hkv, d, G (= Hq/Hkv), L.
    /// </summary>
    public IReadOnlyDictionary<string, long> Symbols => new Dictionary<string, long>(StringComparer.Ordinal)
    {
        ["hidden"] = HiddenSize,
        ["ffn"] = IntermediateSize,
        ["vocab"] = VocabSize,
        ["Hq"] = NumAttentionHeads,
        ["Hkv"] = NumKeyValueHeads,
        ["d"] = HeadDim,
        ["G"] = GroupSize,
        ["L"] = NumHiddenLayers,
    };

    /// <summary>
    /// RoPE inverse frequencies, length <c>d/2</c>, computed exactly as Hugging Face does (float32 arithmetic),
    /// including Llama-3.1 scaling. CPU and GPU backends both take their tables from here.
    /// </summary>
    public float[] RopeInverseFrequencies() => RopeFrequencies.Compute(HeadDim, RopeTheta, RopeScaling);
}
