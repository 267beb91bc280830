using System.Collections.Generic;

namespace ShadowKV.Compiler.Plans;

// The contract between generated code and the runtime. The source generator emits one CompiledModel per [Model]
// class as C# data (Llama.Plan); the GPU executor and the CPU backend both walk the same steps.
// Sizes are symbolic expressions (see SymbolicExpression) over the model's symbols (hidden, ffn, vocab, Hq, Hkv, d,
// L), the ShadowKV symbols (r, c, k, o, nloc) and the step's symbols (B batch, T tokens this step, S context).

/// <summary>Everything the generator produced for one model class.</summary>
public sealed record CompiledModel(
    string Name,
    IReadOnlyList<string> Architectures,
    ShadowKVSettings? ShadowKV,
    IReadOnlyList<WeightBinding> Weights,
    IReadOnlyList<PhasePlan> Phases,
    IReadOnlyList<CudaSource> Sources,
    IReadOnlyList<GraphDump> Graphs);

/// <summary>The IR of one phase as text after one pass (for inspection and pass tests).</summary>
public sealed record GraphDump(string Phase, string Pass, string Text);

/// <summary>ShadowKV parameters from the model's <c>[ShadowKV]</c> attribute.</summary>
public sealed record ShadowKVSettings(
    int Rank, int ChunkSize, int BudgetTokens, int OutlierChunks, int LocalChunks, ValuePlacement Values);

/// <summary>
/// A graph weight bound to a checkpoint tensor. <see cref="Checkpoint"/> may contain <c>{layer}</c>;
/// <see cref="Shape"/> is symbolic, in the checkpoint's [out, in] layout.
/// </summary>
public sealed record WeightBinding(string Name, string Checkpoint, IReadOnlyList<string> Shape, bool PerLayer);

/// <summary>Whether a phase attends over the whole cache or over the ShadowKV sparse set.</summary>
public enum AttentionVariant
{
    Full,
    ShadowKV,
}

/// <summary>Prefill (the prompt, many tokens) or decode (one token per sequence).</summary>
public enum PhaseKind
{
    Prefill,
    Decode,
}

/// <summary>
/// One phase: the buffers it uses and its steps in launch order. The arena holds Pass and Transient buffers; each
/// layer has a device cache block of <see cref="CacheBytesPerLayer"/> and a pinned host block of
/// <see cref="HostCacheBytesPerLayer"/> (for B sequences of capacity S), shared by the phases of one variant.
/// </summary>
public sealed record PhasePlan(
    string Name,
    PhaseKind Kind,
    AttentionVariant Variant,
    string CudaSource,
    IReadOnlyList<BufferSpec> Buffers,
    IReadOnlyList<PlanStep> Steps,
    IReadOnlyList<string> Streams,
    string ArenaBytes,
    string CacheBytesPerLayer,
    string HostCacheBytesPerLayer);

/// <summary>The generated <c>.cu</c> text of one phase, and the template instantiations its launches name.</summary>
public sealed record CudaSource(string Name, string Text);
