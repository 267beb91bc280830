namespace ShadowKV.Runtime.Engine.Execution;

/// <summary>One sequence's tokens in a step: its batch slot, the tokens, and the position of the first one.</summary>
public sealed record SequenceChunk(int Slot, IReadOnlyList<int> Tokens, int StartPosition, int PromptLength);

/// <summary>
/// The per-step metadata every plan reads (OpContracts): tokens [T], positions [T], token_seq [T], last_row [B],
/// context_len [B] and prompt_len [B]. Rows of one sequence are contiguous; slots not in the step keep last_row = −1
/// and their previous lengths.
/// </summary>
public sealed class StepBatch
{
    private StepBatch(int[] tokens, int[] positions, int[] tokenSeq, int[] lastRow, int[] contextLen, int[] promptLen)
    {
        Tokens = tokens;
        Positions = positions;
        TokenSeq = tokenSeq;
        LastRow = lastRow;
        ContextLen = contextLen;
        PromptLen = promptLen;
    }

    public int[] Tokens { get; }

    public int[] Positions { get; }

    public int[] TokenSeq { get; }

    public int[] LastRow { get; }

    public int[] ContextLen { get; }

    public int[] PromptLen { get; }

    public int TokenCount => Tokens.Length;

    /// <summary>Builds the metadata for <paramref name="chunks"/> in a batch of <paramref name="slots"/> sequences.</summary>
    public static StepBatch Create(IReadOnlyList<SequenceChunk> chunks, int slots, int capacity)
    {
        int total = chunks.Sum(c => c.Tokens.Count);
        var tokens = new int[total];
        var positions = new int[total];
        var tokenSeq = new int[total];
        var lastRow = Enumerable.Repeat(-1, slots).ToArray();
        var contextLen = new int[slots];
        var promptLen = new int[slots];
        int row = 0;
        foreach (SequenceChunk chunk in chunks)
        {
            if (chunk.Slot < 0 || chunk.Slot >= slots)
            {
                throw new ArgumentOutOfRangeException(nameof(chunks), $"Sequence slot {chunk.Slot} is outside the batch of {slots}.");
            }

            int end = chunk.StartPosition + chunk.Tokens.Count;
            if (end > capacity)
            {
                throw new InvalidOperationException($"Sequence in slot {chunk.Slot} would reach {end} tokens; the engine holds {capacity} per sequence.");
            }

            for (int i = 0; i < chunk.Tokens.Count; i++, row++)
            {
                tokens[row] = chunk.Tokens[i];
                positions[row] = chunk.StartPosition + i;
                tokenSeq[row] = chunk.Slot;
            }

            lastRow[chunk.Slot] = row - 1;
            contextLen[chunk.Slot] = end;
            promptLen[chunk.Slot] = chunk.PromptLength;
        }

        return new StepBatch(tokens, positions, tokenSeq, lastRow, contextLen, promptLen);
    }
}
