using ShadowKV.Runtime.Engine.Checkpoints;

namespace ShadowKV.Runtime.Engine.Benchmarking;

/// <summary>Everything one <c>skv bench</c> run measured, with what is needed to reproduce it.</summary>
public sealed record BenchmarkReport(
    BenchmarkMachine Machine,
    BenchmarkModel Model,
    BenchmarkRunSettings Settings,
    IReadOnlyList<BenchmarkCell> Cells,
    IReadOnlyList<PeerCell> Peer)
{
    /// <summary>The peer's cell at (<paramref name="context"/>, <paramref name="batch"/>), or null when it was not run.</summary>
    public PeerCell? PeerAt(int context, int batch) => Peer.FirstOrDefault(p => p.Context == context && p.Batch == batch);
}

/// <summary>Where the run happened: the device the cells ran on, the host's cores, OS and .NET version.</summary>
public sealed record BenchmarkMachine(string Device, int ProcessorCount, string OperatingSystem, string DotNet);

/// <summary>The model's name, where its weights came from (a preset with random weights, or a directory) and its shape.</summary>
public sealed record BenchmarkModel(
    string Name,
    string Weights,
    long Layers,
    long Hidden,
    long Ffn,
    long Heads,
    long KvHeads,
    long HeadDim,
    long Vocab,
    long MaxPositions)
{
    public static BenchmarkModel From(string name, string weights, ModelConfig config) => new(
        name, weights, config.NumHiddenLayers, config.HiddenSize, config.IntermediateSize, config.NumAttentionHeads,
        config.NumKeyValueHeads, config.HeadDim, config.VocabSize, config.MaxPositionEmbeddings);
}

/// <summary>The run's knobs: seed of the prompts, steps, the device asked for and the peer.</summary>
public sealed record BenchmarkRunSettings(ulong Seed, int WarmupSteps, int DecodeSteps, string Device, string Peer);

/// <summary>How a cell ended.</summary>
public enum CellStatus
{
    Measured,

    /// <summary>Refused before or while allocating: memory admission, out of memory, a context beyond the model, a
    /// backend that cannot run this shape.</summary>
    DoesNotFit,

    /// <summary>Anything else went wrong; the reason carries the exception.</summary>
    Failed,
}

/// <summary>One (attention variant, context, batch) cell of the engine.</summary>
/// <param name="Variant">"full" or "shadowkv".</param>
/// <param name="Reason">Why the cell was not measured; null when it was.</param>
/// <param name="Device">The backend's device, when one was built.</param>
/// <param name="ShadowKV">The ShadowKV parameters in force (null for full attention).</param>
/// <param name="SpeedupOverFull">Decode throughput over the full-attention cell of the same context and batch, when both were measured.</param>
public sealed record BenchmarkCell(
    string Variant,
    int Context,
    int Batch,
    CellStatus Status,
    string? Reason,
    string? Device,
    CellMeasurement? Measurement,
    ShadowKVCellSettings? ShadowKV,
    IReadOnlyList<string> Notes,
    double? SpeedupOverFull)
{
    /// <summary>With <c>--profile</c> on the GPU: where a decode step's GPU time goes, most expensive first.</summary>
    public IReadOnlyList<CellProfileLine>? Profile { get; init; }
}

/// <summary>One kernel's or GEMM's GPU time per decode step and its share of the step's summed GPU time.</summary>
public sealed record CellProfileLine(string Label, double MillisecondsPerStep, double Share);

/// <summary>The numbers of a measured cell. Memory is the backend's footprint after the run.</summary>
public sealed record CellMeasurement(
    double PrefillSeconds,
    double TokensPerSecond,
    double MillisecondsPerStep,
    int WarmupSteps,
    int DecodeSteps,
    long DeviceBytes,
    long PinnedHostBytes);

/// <summary>The ShadowKV parameters a cell ran with (after the engine's adjustments, e.g. rank clamped to Hkv·d).</summary>
public sealed record ShadowKVCellSettings(long BudgetTokens, long Rank, long ChunkSize, long OutlierChunks, long LocalChunks, string Values);

/// <summary>How a peer cell ended.</summary>
public enum PeerStatus
{
    Measured,

    /// <summary>The peer could not start here (no python, no torch, no GPU, script missing).</summary>
    Unavailable,
    DoesNotFit,
    Failed,
}

/// <summary>The peer's full-attention measurement at one (context, batch).</summary>
/// <param name="Peer">Which peer, e.g. "hf" (Hugging Face transformers).</param>
/// <param name="Details">How it ran: attention kernel, cache kind, prefill chunking, library versions, device.</param>
public sealed record PeerCell(
    string Peer,
    int Context,
    int Batch,
    PeerStatus Status,
    string? Reason,
    double? TokensPerSecond,
    double? MillisecondsPerStep,
    double? PrefillSeconds,
    long? PeakMemoryBytes,
    string? Details);
