using ShadowKV.Compiler.Collections;
using ShadowKV.Compiler.Ir;

namespace ShadowKV.Compiler.Frontend;

// What the Roslyn front end hands to the compiler core: equatable records only (no symbols, no syntax), so the
// incremental generator can cache every step after the parser.

/// <summary>One [Model] class as parsed from C#.</summary>
public sealed record ModelSpec(
    string Namespace,
    string ClassName,
    string FileName,
    EquatableArray<string> Architectures,
    ShadowKVSpec? ShadowKV,
    WeightMapSpec WeightMap,
    EquatableArray<WeightSpec> LayerWeights,
    EquatableArray<SpecOp> Body,
    string LayerInput,
    string LayerOutput);

/// <summary>The model's [ShadowKV] arguments.</summary>
public sealed record ShadowKVSpec(int Rank, int ChunkSize, int BudgetTokens, int OutlierChunks, int LocalChunks, ValuePlacement Values);

/// <summary>The model's [WeightMap] arguments (or their defaults).</summary>
public sealed record WeightMapSpec(string LayerPrefix, string Embedding, string FinalNorm, string LmHead)
{
    public static WeightMapSpec Default { get; } = new("model.layers.{layer}.", "model.embed_tokens.weight", "model.norm.weight", "lm_head.weight");
}

/// <summary>A [Weight] property of the layer class: its graph value name, checkpoint name and symbolic shape.</summary>
public sealed record WeightSpec(string Value, string Checkpoint, EquatableArray<string> Shape, SourceOrigin Origin);

/// <summary>
/// One operation of the [Layer] body in SSA form: <c>Result = Op(Args)</c>. Args name earlier results, the layer
/// input, or weights (<c>w.q_proj</c>).
/// </summary>
public sealed record SpecOp(string Result, string Op, EquatableArray<string> Args, EquatableArray<Attr> Attributes, SourceOrigin Origin);
