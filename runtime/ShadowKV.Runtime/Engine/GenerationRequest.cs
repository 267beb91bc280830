using ShadowKV.Compiler.Plans;
using ShadowKV.Runtime.Engine.Sampling;

namespace ShadowKV.Runtime.Engine;

/// <summary>One sequence to generate: its prompt ids (BOS included when the model wants one) and how to continue it.</summary>
public sealed record GenerationRequest(IReadOnlyList<int> PromptTokens)
{
    /// <summary>Tokens to generate at most; 0 returns at once with nothing generated.</summary>
    public int MaxNewTokens { get; init; } = 64;

    /// <summary>Greedy by default; the seed is this sequence's own.</summary>
    public SamplingOptions Sampling { get; init; } = SamplingOptions.Greedy;

    /// <summary>Extra stop ids besides the tokenizer's EOS ids.</summary>
    public IReadOnlyList<int> StopTokens { get; init; } = [];

    /// <summary>Stop on the tokenizer's EOS ids (off: always run to <see cref="MaxNewTokens"/>).</summary>
    public bool StopAtEos { get; init; } = true;
}

/// <summary>Why a sequence ended.</summary>
public enum StopReason
{
    MaxTokens,
    EndOfSequence,
}

/// <summary>One sequence's output: generated ids (a stop token excluded) and their text.</summary>
public sealed record GenerationResult(int Index, IReadOnlyList<int> Tokens, string Text, StopReason Reason);

/// <summary>A streamed piece of output: the sequence, the new token (−1 for the final flush) and the text it completed.</summary>
public readonly record struct TokenEvent(int Sequence, int Token, string Text);

/// <summary>The outputs of one <see cref="InferenceEngine.Generate"/> call and how long it took.</summary>
public sealed record GenerationBatchResult(
    IReadOnlyList<GenerationResult> Sequences,
    TimeSpan PrefillTime,
    TimeSpan DecodeTime,
    int DecodeSteps,
    string Device,
    AttentionVariant Variant,
    IReadOnlyList<string> Notes)
{
    public int GeneratedTokens => Sequences.Sum(s => s.Tokens.Count);

    /// <summary>Tokens produced by decode steps per second of decode time (the first token of each comes from prefill).</summary>
    public double DecodeTokensPerSecond =>
        DecodeTime > TimeSpan.Zero ? Math.Max(0, GeneratedTokens - Sequences.Count(s => s.Tokens.Count > 0)) / DecodeTime.TotalSeconds : 0;
}
