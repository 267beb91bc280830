using ShadowKV.Compiler;
using ShadowKV.Compiler.Plans;

namespace ShadowKV.Runtime.Engine.Execution;

/// <summary>Where a model runs.</summary>
public enum DeviceKind
{
    /// <summary>The GPU when one is usable, else the CPU.</summary>
    Auto,
    Cpu,
    Gpu,
}

/// <summary>
/// How an engine is sized and which attention it runs. <see cref="MaxBatch"/> sequences share the engine; each holds
/// at most <see cref="MaxPromptTokens"/> prompt tokens and <see cref="MaxNewTokens"/> generated ones. ShadowKV
/// fields override the model's [ShadowKV] defaults when set.
/// </summary>
public sealed record EngineOptions
{
    public AttentionVariant Variant { get; init; } = AttentionVariant.Full;

    public DeviceKind Device { get; init; } = DeviceKind.Auto;

    public int MaxBatch { get; init; } = 1;

    public int MaxPromptTokens { get; init; } = 2048;

    public int MaxNewTokens { get; init; } = 256;

    /// <summary>
    /// Full attention only: prefill prompts in steps of at most this many tokens per sequence (later chunks attend to
    /// the cached earlier ones); null prefills each prompt in one step. ShadowKV prefill is always one step.
    /// </summary>
    public int? PrefillChunkTokens { get; init; }

    /// <summary>
    /// Tokens one prefill step carries across the batch: the plan's T, which sizes the activation arena. Prompts (or
    /// their chunks) are packed into steps of at most this many tokens, so a batch of long prompts is prefilled a
    /// sequence at a time rather than all at once. Null: <see cref="MaxPromptTokens"/>, one whole prompt per step.
    /// ShadowKV prefills each prompt in one step, so it needs at least <see cref="MaxPromptTokens"/>.
    /// </summary>
    public int? PrefillStepTokens { get; init; }

    /// <summary><see cref="PrefillStepTokens"/> in force.</summary>
    public int ResolvedPrefillStepTokens => PrefillStepTokens ?? MaxPromptTokens;

    /// <summary>Sparse budget in tokens (rounded down to whole chunks); null: the model's default.</summary>
    public int? BudgetTokens { get; init; }

    public int? Rank { get; init; }

    public int? OutlierChunks { get; init; }

    public int? LocalChunks { get; init; }

    public ValuePlacement? Values { get; init; }

    /// <summary>
    /// GPU backend: capture each decode step shape (batch rows) as a CUDA graph once and replay it, so a decode step
    /// costs one launch instead of one per kernel and GEMM. Off: every step is enqueued kernel by kernel (eager).
    /// </summary>
    public bool DecodeGraphs { get; init; } = true;

    /// <summary>
    /// GPU backend: time every decode plan step with CUDA events and sum the time per kernel and GEMM
    /// (<c>GpuBackend.DecodeProfile</c>). Profiled steps run eagerly with two events per step, so their wall time is
    /// longer than a replayed graph's; the per-step split is what to read.
    /// </summary>
    public bool ProfileDecode { get; init; }

    /// <summary>The ShadowKV parameters in force: the model's defaults with these options applied.</summary>
    public ShadowKVSettings ResolveShadowKV(ShadowKVSettings? model)
    {
        ShadowKVSettings basis = model ?? new ShadowKVSettings(160, 8, 2048, 48, 4, ValuePlacement.Host);
        return basis with
        {
            BudgetTokens = BudgetTokens ?? basis.BudgetTokens,
            Rank = Rank ?? basis.Rank,
            OutlierChunks = OutlierChunks ?? basis.OutlierChunks,
            LocalChunks = LocalChunks ?? basis.LocalChunks,
            Values = Values ?? basis.Values,
        };
    }
}
