using ShadowKV.Runtime.Engine.Checkpoints;

namespace ShadowKV.Runtime.Engine.Benchmarking;

/// <summary>One full-attention decode measurement asked of a peer implementation: the same shape, context and batch.</summary>
public sealed record PeerRequest(ModelConfig Config, int Context, int Batch, int WarmupSteps, int DecodeSteps, ulong Seed);

/// <summary>Another inference stack measured in the same run as the engine, at the same (context, batch) cells.</summary>
public interface IThroughputPeer
{
    /// <summary>Short name shown in tables and JSON, e.g. "hf".</summary>
    string Name { get; }

    /// <summary>Measures one cell. Never throws for a peer that is missing or runs out of memory: that is the result.</summary>
    PeerCell Measure(PeerRequest request);
}
