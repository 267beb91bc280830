using System.Diagnostics;

namespace ShadowKV.Runtime.Engine;

/// <summary>How long one batch took to prefill and to decode, as <see cref="InferenceEngine.TimeDecode"/> measured it.</summary>
/// <param name="Batch">Sequences decoded together (each step produces one token per sequence).</param>
/// <param name="PrefillTime">Wall time of the prefill of every prompt, including the first-call setup of that step shape.</param>
/// <param name="WarmupSteps">Decode steps run before the clock started.</param>
/// <param name="DecodeSteps">Decode steps timed.</param>
/// <param name="DecodeTime">Wall time of the timed decode steps.</param>
public sealed record DecodeTiming(int Batch, TimeSpan PrefillTime, int WarmupSteps, int DecodeSteps, TimeSpan DecodeTime)
{
    /// <summary>Generated tokens per second over the timed steps: batch × steps / seconds.</summary>
    public double TokensPerSecond => DecodeTime > TimeSpan.Zero ? Batch * (double)DecodeSteps / DecodeTime.TotalSeconds : 0;

    /// <summary>Mean wall time of one timed decode step (all sequences), in milliseconds.</summary>
    public double MillisecondsPerStep => DecodeSteps > 0 ? DecodeTime.TotalMilliseconds / DecodeSteps : 0;
}

public sealed partial class InferenceEngine
{
    /// <summary>
    /// Times a batch the way a throughput benchmark needs it: prefill every prompt (as <see cref="Generate"/> does),
    /// run <paramref name="warmupSteps"/> (≥ 1) decode steps untimed (the first step of a shape builds its launch program),
    /// then time <paramref name="decodeSteps"/> decode steps of greedy tokens. No sequence stops early: EOS and stop
    /// ids are ignored, so every step decodes the whole batch. Each step returns its logits to the host, so the
    /// clock reads synchronised device work.
    /// </summary>
    public DecodeTiming TimeDecode(IReadOnlyList<IReadOnlyList<int>> prompts, int warmupSteps, int decodeSteps)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        // At least one untimed step: the first decode step of a shape builds its launch program and captures its graph.
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(warmupSteps);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(decodeSteps);

        // Prefill samples the first token; each decode step one more.
        int newTokens = 1 + warmupSteps + decodeSteps;
        List<Sequence> sequences = Start([.. prompts.Select(p => new GenerationRequest(p) { MaxNewTokens = newTokens, StopAtEos = false })]);
        var clock = Stopwatch.StartNew();
        Prefill(sequences, onToken: null);
        TimeSpan prefillTime = clock.Elapsed;
        for (int step = 0; step < warmupSteps; step++)
        {
            DecodeAndAccept(sequences);
        }

        clock.Restart();
        for (int step = 0; step < decodeSteps; step++)
        {
            DecodeAndAccept(sequences);
        }

        return new DecodeTiming(sequences.Count, prefillTime, warmupSteps, decodeSteps, clock.Elapsed);
    }

    private void DecodeAndAccept(List<Sequence> sequences)
    {
        float[] logits = DecodeStep(sequences);
        foreach (Sequence sequence in sequences)
        {
            Accept(sequence, logits, onToken: null);
        }
    }
}
