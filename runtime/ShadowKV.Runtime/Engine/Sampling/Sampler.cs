using System;
using System.Collections.Generic;
using ShadowKV.Runtime.Cpu.Kernels;

namespace ShadowKV.Runtime.Engine.Sampling;

/// <summary>
/// Draws next tokens for ONE sequence from its logits [V] under <see cref="SamplingOptions"/>; owns that
/// sequence's generator, so a batch keeps one sampler per sequence and each is reproducible alone.
/// Not thread-safe; reuses its scratch buffers between calls.
/// </summary>
public sealed class Sampler
{
    private DeterministicRandom _random;
    private int[] _order = [];
    private double[] _weights = [];
    private float[] _keys = [];

    public Sampler(SamplingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        _random = new DeterministicRandom(options.Seed);
    }

    public SamplingOptions Options { get; }

    /// <summary>The next token id for logits [V].</summary>
    public int Sample(ReadOnlySpan<float> logits)
    {
        if (logits.IsEmpty)
        {
            throw new ArgumentException("Sampling needs at least one logit.", nameof(logits));
        }

        if (Options.IsGreedy)
        {
            return CpuKernels.Argmax(logits);
        }

        int count = Candidates(logits);

        // Softmax of logit / temperature over the candidates, in double; the order is by descending logit.
        double temperature = Options.Temperature, max = logits[_order[0]];
        double total = 0;
        for (int i = 0; i < count; i++)
        {
            total += _weights[i] = Math.Exp((logits[_order[i]] - max) / temperature);
        }

        // Nucleus: keep token i while the mass before it is still below TopP (HF removes a token when the mass
        // of the tokens at least as likely, it excluded, already reaches TopP); at least one token survives.
        if (Options.TopP < 1)
        {
            double before = 0, limit = Options.TopP * total;
            int kept = 0;
            while (kept < count && (kept == 0 || before < limit))
            {
                before += _weights[kept++];
            }

            count = kept;
            total = before;
        }

        double u = _random.NextDouble() * total, cumulative = 0;
        for (int i = 0; i < count - 1; i++)
        {
            cumulative += _weights[i];
            if (u < cumulative)
            {
                return _order[i];
            }
        }

        return _order[count - 1];
    }

    // Fills _order with the candidate ids by descending logit (ties → lower id; NaN never a candidate ahead of a
    // number) and returns how many survive top-k.
    private int Candidates(ReadOnlySpan<float> logits)
    {
        int vocab = logits.Length;
        if (_order.Length < vocab)
        {
            _order = new int[vocab];
            _weights = new double[vocab];
            _keys = new float[vocab];
        }

        for (int i = 0; i < vocab; i++)
        {
            _order[i] = i;
        }

        float[] keys = _keys;
        for (int i = 0; i < vocab; i++)
        {
            keys[i] = float.IsNaN(logits[i]) ? float.NegativeInfinity : logits[i];
        }

        Array.Sort(_order, 0, vocab, Comparer<int>.Create((x, y) => keys[x] != keys[y] ? keys[y].CompareTo(keys[x]) : x.CompareTo(y)));
        int count = Options.TopK > 0 ? Math.Min(Options.TopK, vocab) : vocab;
        if (float.IsNegativeInfinity(keys[_order[0]]))
        {
            return 1; // every logit is −∞ or NaN: nothing to weigh, fall back to the lowest id
        }

        // −∞ logits (masked tokens) have zero probability; drop them so they can never be drawn.
        while (count > 1 && float.IsNegativeInfinity(keys[_order[count - 1]]))
        {
            count--;
        }

        return count;
    }
}
