using ShadowKV.Compiler.Plans;
using ShadowKV.Runtime.Engine.Checkpoints;
using ShadowKV.Runtime.Engine.Execution;

namespace ShadowKV.Runtime.Engine.Benchmarking;

/// <summary>
/// What a <see cref="ThroughputBenchmark"/> measures: one model (a checkpoint directory, or a preset's shape with
/// random weights), every (variant × context × batch) cell, and how many decode steps each cell times.
/// </summary>
public sealed record ThroughputBenchmarkOptions
{
    /// <summary>A Hugging Face model directory; null: <see cref="Preset"/> with seeded random weights.</summary>
    public string? ModelDirectory { get; init; }

    /// <summary>A name of <see cref="ModelConfig.Presets"/>, used when <see cref="ModelDirectory"/> is null.</summary>
    public string Preset { get; init; } = "tiny-llama3";

    /// <summary>Replaces the preset's shape while keeping its name (tests shrink a preset); null: the preset's own.</summary>
    public ModelConfig? PresetShape { get; init; }

    /// <summary>Prompt tokens per sequence, one cell each.</summary>
    public IReadOnlyList<int> Contexts { get; init; } = [256, 1024];

    /// <summary>Sequences decoded together, one cell each.</summary>
    public IReadOnlyList<int> Batches { get; init; } = [1];

    public IReadOnlyList<AttentionVariant> Variants { get; init; } = [AttentionVariant.Full, AttentionVariant.ShadowKV];

    /// <summary>Untimed decode steps after prefill (the first step of a shape builds its launch program).</summary>
    public int WarmupSteps { get; init; } = 4;

    /// <summary>Timed decode steps.</summary>
    public int DecodeSteps { get; init; } = 32;

    /// <summary>Seeds the prompts (and the random weights of a preset).</summary>
    public ulong Seed { get; init; }

    /// <summary>
    /// The device and the ShadowKV overrides (budget, rank, outliers, local chunks, values placement); the variant,
    /// batch and capacities are set per cell. Use an explicit device: Auto would let a preset fall back to the CPU.
    /// </summary>
    public EngineOptions Engine { get; init; } = new() { Device = DeviceKind.Cpu };

    /// <summary>Tokens each sequence generates in a cell: the prefill's token, the warm-up steps and the timed steps.</summary>
    public int NewTokensPerSequence => 1 + WarmupSteps + DecodeSteps;
}
