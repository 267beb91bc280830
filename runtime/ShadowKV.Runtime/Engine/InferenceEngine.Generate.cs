using System.Diagnostics;
using ShadowKV.Compiler.Plans;
using ShadowKV.Runtime.Engine.Execution;
using ShadowKV.Runtime.Engine.Sampling;
using ShadowKV.Runtime.Engine.Tokenization;

namespace ShadowKV.Runtime.Engine;

public sealed partial class InferenceEngine
{
    // One request in flight: request i lives in batch slot i.
    private sealed class Sequence(int slot, GenerationRequest request, ITextTokenizer tokenizer)
    {
        public int Slot { get; } = slot;

        public GenerationRequest Request { get; } = request;

        public Sampler Sampler { get; } = new(request.Sampling);

        public TokenStreamDecoder Decoder { get; } = tokenizer.CreateStreamDecoder();

        public List<int> Generated { get; } = [];

        public System.Text.StringBuilder Text { get; } = new();

        public int Prefilled { get; set; }

        public StopReason? Stopped { get; set; }

        public int LastToken => Generated.Count > 0 ? Generated[^1] : Request.PromptTokens[^1];

        // Where LastToken is fed: the last sampled token right after everything fed so far. A sequence that stopped
        // before generating anything repeats its last prompt token one past the prompt (a row no one reads), so the
        // ShadowKV generated region (row pos − prompt_len) is never addressed below 0.
        public int NextPosition => Request.PromptTokens.Count + Math.Max(Generated.Count - 1, 0);
    }

    /// <summary>
    /// Generates for a ragged batch: prefill (prompts packed into steps of <see cref="EngineOptions.PrefillStepTokens"/>,
    /// each whole, or in chunks of <see cref="EngineOptions.PrefillChunkTokens"/> for full attention), then one decode step per token for all
    /// sequences together, sampling each with its own sampler, until each hits a stop id or its token limit.
    /// <paramref name="onToken"/> receives each sequence's text as it completes. Requests are validated before any work.
    /// </summary>
    public GenerationBatchResult Generate(IReadOnlyList<GenerationRequest> requests, Action<TokenEvent>? onToken = null)
    {
        List<Sequence> sequences = Start(requests);
        var clock = Stopwatch.StartNew();
        foreach (Sequence sequence in sequences.Where(s => s.Request.MaxNewTokens == 0))
        {
            sequence.Stopped = StopReason.MaxTokens;
        }

        Prefill(sequences, onToken);
        TimeSpan prefillTime = clock.Elapsed;
        clock.Restart();
        int steps = 0;
        while (sequences.Any(s => s.Stopped is null))
        {
            float[] logits = DecodeStep(sequences);
            steps++;
            foreach (Sequence sequence in sequences.Where(s => s.Stopped is null))
            {
                Accept(sequence, logits, onToken);
            }
        }

        TimeSpan decodeTime = clock.Elapsed;
        var results = sequences.Select(s =>
        {
            string tail = s.Decoder.Flush();
            if (tail.Length > 0)
            {
                s.Text.Append(tail);
                onToken?.Invoke(new TokenEvent(s.Slot, -1, tail));
            }

            return new GenerationResult(s.Slot, s.Generated.ToArray(), s.Text.ToString(), s.Stopped ?? StopReason.MaxTokens);
        }).ToArray();
        return new GenerationBatchResult(results, prefillTime, decodeTime, steps, Backend.DeviceName, Backend.Variant, Notes);
    }

    // Validates the requests, empties every slot of the backend and gives request i slot i.
    private List<Sequence> Start(IReadOnlyList<GenerationRequest> requests)
    {
        Validate(requests);
        for (int slot = 0; slot < Options.MaxBatch; slot++)
        {
            Backend.ResetSlot(slot);
        }

        return requests.Select((r, i) => new Sequence(i, r, Tokenizer)).ToList();
    }

    // One decode step: every slot's next token in one Forward, returning the logits [B, vocab].
    private float[] DecodeStep(List<Sequence> sequences)
    {
        int slots = Options.MaxBatch;
        var chunks = new List<SequenceChunk>(slots);
        for (int slot = 0; slot < slots; slot++)
        {
            // Finished sequences repeat their last token at its position (rewriting identical rows, read by no one);
            // unused slots run token 0 of an empty sequence: decode steps always carry T = B rows.
            Sequence? s = slot < sequences.Count ? sequences[slot] : null;
            chunks.Add(s is null
                ? new SequenceChunk(slot, [0], 0, 0)
                : new SequenceChunk(slot, [s.LastToken], s.NextPosition, s.Request.PromptTokens.Count));
        }

        return Backend.Forward(PhaseKind.Decode, StepBatch.Create(chunks, slots, Capacity));
    }

    // Tokens one sequence may occupy in the backend's cache (full attention: prompt + generated in one cache).
    private int Capacity => Options.MaxPromptTokens + Options.MaxNewTokens;

    // Packs the prompts into steps of at most PrefillStepTokens tokens (the plan's T), in slot order. Full attention may
    // split a prompt anywhere, since later chunks attend to the cached earlier ones; ShadowKV needs each prompt whole in
    // one step, which its options guarantee fits an empty step.
    private void Prefill(List<Sequence> sequences, Action<TokenEvent>? onToken)
    {
        bool full = Backend.Variant == AttentionVariant.Full;
        int chunk = full && Options.PrefillChunkTokens is int size ? size : int.MaxValue;
        int stepTokens = Options.ResolvedPrefillStepTokens;
        List<Sequence> pending = sequences.Where(s => s.Stopped is null).ToList();
        while (pending.Count > 0)
        {
            var step = new List<(Sequence Sequence, SequenceChunk Chunk)>();
            int used = 0;
            foreach (Sequence s in pending)
            {
                int count = Math.Min(chunk, s.Request.PromptTokens.Count - s.Prefilled);
                if (used + count > stepTokens)
                {
                    if (!full || used == stepTokens)
                    {
                        break;
                    }

                    count = stepTokens - used;
                }

                step.Add((s, new SequenceChunk(s.Slot, s.Request.PromptTokens.Skip(s.Prefilled).Take(count).ToArray(), s.Prefilled, s.Request.PromptTokens.Count)));
                used += count;
            }

            if (step.Count == 0)
            {
                throw new InvalidOperationException($"A {pending[0].Request.PromptTokens.Count}-token prompt does not fit a prefill step of {stepTokens} tokens.");
            }

            float[] logits = Backend.Forward(PhaseKind.Prefill, StepBatch.Create(step.Select(x => x.Chunk).ToList(), Options.MaxBatch, Capacity));
            foreach ((Sequence s, SequenceChunk c) in step)
            {
                s.Prefilled += c.Tokens.Count;
                if (s.Prefilled == s.Request.PromptTokens.Count)
                {
                    Accept(s, logits, onToken);
                }
            }

            pending.RemoveAll(s => s.Prefilled == s.Request.PromptTokens.Count);
        }
    }

    // Samples the sequence's next token from its row of the step's logits [B, vocab] and decides whether it stops.
    private void Accept(Sequence sequence, float[] logits, Action<TokenEvent>? onToken)
    {
        int vocab = (int)Config.VocabSize;
        int token = sequence.Sampler.Sample(logits.AsSpan(sequence.Slot * vocab, vocab));
        bool stop = sequence.Request.StopTokens.Contains(token) || (sequence.Request.StopAtEos && Tokenizer.EosIds.Contains(token));
        if (stop)
        {
            sequence.Stopped = StopReason.EndOfSequence;
            return;
        }

        sequence.Generated.Add(token);
        string text = sequence.Decoder.DecodeToken(token);
        sequence.Text.Append(text);
        onToken?.Invoke(new TokenEvent(sequence.Slot, token, text));
        if (sequence.Generated.Count >= sequence.Request.MaxNewTokens)
        {
            sequence.Stopped = StopReason.MaxTokens;
        }
    }

    private void Validate(IReadOnlyList<GenerationRequest> requests)
    {
        if (requests.Count == 0)
        {
            throw new ArgumentException("Nothing to generate: the batch is empty.", nameof(requests));
        }

        if (requests.Count > Options.MaxBatch)
        {
            throw new ArgumentException($"The batch has {requests.Count} prompts; this engine was sized for at most {Options.MaxBatch} (EngineOptions.MaxBatch).", nameof(requests));
        }

        for (int i = 0; i < requests.Count; i++)
        {
            GenerationRequest request = requests[i];
            int length = request.PromptTokens.Count, limit = Math.Min(Options.MaxPromptTokens, (int)Math.Min(int.MaxValue, Config.MaxPositionEmbeddings));
            string which = requests.Count == 1 ? "The prompt" : $"Prompt {i}";
            if (length == 0)
            {
                throw new ArgumentException($"{which} is empty; give at least one token (e.g. BOS).", nameof(requests));
            }

            if (length > Options.MaxPromptTokens)
            {
                throw new ArgumentException($"{which} has {length} tokens; the engine accepts at most {Options.MaxPromptTokens} (EngineOptions.MaxPromptTokens).", nameof(requests));
            }

            if (length + request.MaxNewTokens > Config.MaxPositionEmbeddings)
            {
                throw new ArgumentException($"{which} has {length} tokens and asks for {request.MaxNewTokens} more; the model's context is {Config.MaxPositionEmbeddings} tokens (limit for this prompt: {Math.Max(0, Config.MaxPositionEmbeddings - length)} new tokens, prompts ≤ {limit}).", nameof(requests));
            }

            if (request.MaxNewTokens < 0 || request.MaxNewTokens > Options.MaxNewTokens)
            {
                throw new ArgumentException($"{which} asks for {request.MaxNewTokens} new tokens; the engine holds 0 … {Options.MaxNewTokens} (EngineOptions.MaxNewTokens).", nameof(requests));
            }

            int vocab = (int)Config.VocabSize;
            int bad = request.PromptTokens.FirstOrDefault(t => (uint)t >= (uint)vocab, -1);
            if (bad != -1)
            {
                throw new ArgumentException($"{which} contains token id {bad}, outside the vocabulary of {vocab}.", nameof(requests));
            }
        }
    }
}
