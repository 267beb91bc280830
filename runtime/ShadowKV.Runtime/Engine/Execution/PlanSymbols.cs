using ShadowKV.Compiler.Plans;
using ShadowKV.Runtime.Engine.Checkpoints;

namespace ShadowKV.Runtime.Engine.Execution;

/// <summary>
/// Binds the plan's size symbols for one engine and one step: the model's (hidden, ffn, vocab, Hq, Hkv, d, G, L,
/// D = Hkv·d), the capacities (B sequences, S tokens of cache per sequence, max_new generated tokens), ShadowKV's
/// (r, c, k, o, nloc) and the step's token count T. Both backends evaluate every plan expression through this.
/// </summary>
public sealed class PlanSymbols
{
    private readonly Dictionary<string, long> _symbols;

    private PlanSymbols(Dictionary<string, long> symbols, IReadOnlyList<string> notes)
    {
        _symbols = symbols;
        Notes = notes;
    }

    /// <summary>Adjustments made to fit the model (e.g. rank clamped to Hkv·d), for the user to see.</summary>
    public IReadOnlyList<string> Notes { get; }

    public IReadOnlyDictionary<string, long> Values => _symbols;

    public long this[string symbol] => _symbols[symbol];

    public static PlanSymbols For(ModelConfig config, EngineOptions options, ShadowKVSettings? modelShadowKV)
    {
        var symbols = new Dictionary<string, long>(config.Symbols, StringComparer.Ordinal);
        var notes = new List<string>();
        long d = symbols["d"], hkv = symbols["Hkv"];
        symbols["D"] = hkv * d;
        symbols["B"] = options.MaxBatch;
        symbols["T"] = PrefillStepTokens(options);
        ShadowKVSettings shadow = options.ResolveShadowKV(modelShadowKV);
        long c = shadow.ChunkSize;
        if (options.Variant == AttentionVariant.ShadowKV)
        {
            // ShadowKV keeps the prompt in its shadow state and new tokens in their own region.
            symbols["S"] = AlignUp(options.MaxPromptTokens, c);
            symbols["max_new"] = options.MaxNewTokens;
        }
        else
        {
            symbols["S"] = options.MaxPromptTokens + (long)options.MaxNewTokens;
            symbols["max_new"] = options.MaxNewTokens;
        }

        long rank = Math.Min(shadow.Rank, hkv * d);
        if (rank < shadow.Rank && options.Variant == AttentionVariant.ShadowKV)
        {
            notes.Add($"ShadowKV rank {shadow.Rank} exceeds Hkv·d = {hkv * d}; using rank {rank} (exact keys).");
        }

        symbols["r"] = rank;
        symbols["c"] = c;
        symbols["k"] = Math.Max(1, shadow.BudgetTokens / c);
        symbols["o"] = shadow.OutlierChunks;
        symbols["nloc"] = shadow.LocalChunks;
        return new PlanSymbols(symbols, notes);
    }

    // The largest prefill step; the engine packs prompts into steps of at most this many tokens.
    private static long PrefillStepTokens(EngineOptions options)
    {
        int step = options.ResolvedPrefillStepTokens;
        if (step <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"PrefillStepTokens is {step}; a prefill step needs at least one token.");
        }

        if (options.Variant == AttentionVariant.ShadowKV && step < options.MaxPromptTokens)
        {
            throw new ArgumentOutOfRangeException(nameof(options),
                $"PrefillStepTokens is {step}, below MaxPromptTokens = {options.MaxPromptTokens}: ShadowKV prefills each prompt in one step.");
        }

        return step;
    }

    /// <summary>The same binding with this step's token count (prefill: all prompt tokens; decode: one per sequence).</summary>
    public PlanSymbols ForStep(long tokens)
    {
        var step = new Dictionary<string, long>(_symbols, StringComparer.Ordinal) { ["T"] = tokens };
        return new PlanSymbols(step, Notes);
    }

    public long Evaluate(string expression) => SymbolicExpression.Evaluate(expression, _symbols);

    /// <summary>Elements of a plan buffer: the product of its evaluated dims.</summary>
    public long Elements(BufferSpec spec) => spec.Shape.Aggregate(1L, (product, dim) => checked(product * Evaluate(dim)));

    /// <summary>Bytes of a plan buffer (bf16 2, f32 and i32 4 per element).</summary>
    public long Bytes(BufferSpec spec) => Elements(spec) * (spec.Type == DataType.BF16 ? 2 : 4);

    private static long AlignUp(long value, long multiple) => (value + multiple - 1) / multiple * multiple;
}
