using System;

namespace ShadowKV.Compiler;

/// <summary>
/// Marks a <c>static partial class</c> as a compiled model. The source generator lowers its <see cref="LayerAttribute"/>
/// method into IR, CUDA and a host plan, and claims the Hugging Face <c>architectures</c> listed here.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class ModelAttribute : Attribute
{
    /// <summary>Hugging Face <c>config.json</c> architectures this model class can load.</summary>
    public string[] Architectures { get; set; } = Array.Empty<string>();
}

/// <summary>Marks the method that describes one decoder block. It is compiled, never executed.</summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false)]
public sealed class LayerAttribute : Attribute
{
}

/// <summary>
/// Opts a model into the ShadowKV rewrites of its attention node. Defaults are the paper's (see SHADOWKV.md).
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class ShadowKVAttribute : Attribute
{
    /// <summary>Rank r of the pre-RoPE key factorisation (clamped to Hkv·d at load time).</summary>
    public int Rank { get; set; } = 160;

    /// <summary>Chunk size c in tokens; one landmark per chunk.</summary>
    public int ChunkSize { get; set; } = 8;

    /// <summary>Sparse budget in tokens (k = budget / c selected chunks per KV head).</summary>
    public int BudgetTokens { get; set; } = 2048;

    /// <summary>Outlier chunks per KV head kept exact on the GPU.</summary>
    public int OutlierChunks { get; set; } = 48;

    /// <summary>Local chunks at the end of the prompt kept exact.</summary>
    public int LocalChunks { get; set; } = 4;

    /// <summary>Where the prompt's values live during decoding.</summary>
    public ValuePlacement Values { get; set; } = ValuePlacement.Host;
}

/// <summary>
/// Names the model-level checkpoint tensors; per-layer tensor names come from <see cref="WeightAttribute"/> on the
/// layer class, prefixed by <see cref="LayerPrefix"/> with <c>{layer}</c> replaced by the layer index.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class WeightMapAttribute : Attribute
{
    public string LayerPrefix { get; set; } = "model.layers.{layer}.";
    public string Embedding { get; set; } = "model.embed_tokens.weight";
    public string FinalNorm { get; set; } = "model.norm.weight";

    /// <summary>LM head; when the checkpoint ties embeddings (<c>tie_word_embeddings</c>) the embedding is used.</summary>
    public string LmHead { get; set; } = "lm_head.weight";
}

/// <summary>
/// Binds a layer-class property to a checkpoint tensor and states its shape in the model's symbols
/// (<c>hidden</c>, <c>ffn</c>, <c>vocab</c>, <c>Hq</c>, <c>Hkv</c>, <c>d</c>), e.g. <c>[Weight("self_attn.q_proj.weight", "Hq*d", "hidden")]</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Property, Inherited = false)]
public sealed class WeightAttribute : Attribute
{
    public WeightAttribute(string name, params string[] shape)
    {
        Name = name;
        Shape = shape;
    }

    public string Name { get; }
    public string[] Shape { get; }
}
