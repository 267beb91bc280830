using System;

namespace ShadowKV.Runtime.Engine.Sampling;

/// <summary>
/// How the next token is drawn from the logits. Temperature 0 is greedy decoding (argmax, ties → lowest id);
/// otherwise logits are divided by the temperature, cut to the <see cref="TopK"/> largest (0 = no cut) and to
/// the smallest set whose probability reaches <see cref="TopP"/> (1 = no cut), in that order, as Hugging Face
/// applies its warpers. <see cref="Seed"/> makes the draws reproducible on every platform.
/// Out-of-range values throw <see cref="ArgumentOutOfRangeException"/> when set.
/// </summary>
public sealed record SamplingOptions
{
    /// <summary>Greedy decoding.</summary>
    public static SamplingOptions Greedy { get; } = new();

    /// <summary>Softmax temperature, ≥ 0 and finite; 0 means greedy.</summary>
    public float Temperature
    {
        get;
        init => field = float.IsFinite(value) && value >= 0
            ? value
            : throw new ArgumentOutOfRangeException(nameof(Temperature), value, "Temperature must be a finite number ≥ 0 (0 = greedy).");
    }

    /// <summary>Keep only the k most likely tokens; 0 keeps all.</summary>
    public int TopK
    {
        get;
        init => field = value >= 0
            ? value
            : throw new ArgumentOutOfRangeException(nameof(TopK), value, "TopK must be ≥ 0 (0 = no top-k cut).");
    }

    /// <summary>Nucleus mass in (0, 1]; 1 keeps all.</summary>
    public float TopP
    {
        get;
        init => field = value > 0 && value <= 1
            ? value
            : throw new ArgumentOutOfRangeException(nameof(TopP), value, "TopP must be in (0, 1] (1 = no nucleus cut).");
    } = 1f;

    /// <summary>Seed of the per-sequence random generator.</summary>
    public ulong Seed { get; init; }

    /// <summary>True when no randomness is involved.</summary>
    public bool IsGreedy => Temperature == 0;
}
