using ShadowKV.Compiler.Plans;

namespace ShadowKV.Runtime.Engine.Execution;

/// <summary>
/// Runs a compiled model's plan on one device for a fixed batch of sequence slots. The CPU backend (the oracle) and
/// the GPU backend both implement it; the engine above it does tokenisation, sampling and stopping.
/// </summary>
public interface IModelBackend : IDisposable
{
    /// <summary>Human-readable device name ("cpu (managed float32)", "NVIDIA H100 80GB HBM3").</summary>
    string DeviceName { get; }

    AttentionVariant Variant { get; }

    PlanSymbols Symbols { get; }

    /// <summary>
    /// Bytes this backend holds now: on its compute device (weights, activations, caches; the CPU backend's arrays)
    /// and in host memory for offloaded ShadowKV values (pinned on the GPU).
    /// </summary>
    (long DeviceBytes, long PinnedHostBytes) Footprint { get; }

    /// <summary>
    /// Runs one step of the phase (<see cref="PhaseKind.Prefill"/> for prompt tokens, <see cref="PhaseKind.Decode"/>
    /// for one token per sequence) and returns the logits of each sequence's last token in the step, [B, vocab]
    /// (rows of slots not in the step are unspecified).
    /// </summary>
    float[] Forward(PhaseKind phase, StepBatch batch);

    /// <summary>Forgets a slot's cache so a new sequence can use it.</summary>
    void ResetSlot(int slot);
}
