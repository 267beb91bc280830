using System.Globalization;
using ShadowKV.Compiler.Plans;
using ShadowKV.Runtime.Engine.Checkpoints;
using ShadowKV.Runtime.Engine.Execution;

namespace ShadowKV.Runtime.Cpu;

/// <summary>
/// Executes a compiled model's plan in managed float32 code: for the chosen variant's prefill or decode phase it walks
/// the steps in order (prologue once, layer steps once per layer with that layer's weights and caches, epilogue once)
/// and runs each step's op as <see cref="OpContracts"/> defines it. It is the numeric oracle for the GPU backend and
/// the engine's fallback when no GPU exists. One <see cref="Forward"/> at a time.
/// </summary>
/// <remarks>
/// Decode steps carry exactly one token for every slot (row b = slot b, T = B), as the decode plan's [B] buffers
/// require. The engine keeps finished or unused slots in the step with a harmless repeat: a finished sequence re-feeds
/// its last token at the same position (rewriting identical cache rows), an unused slot feeds token 0 at position 0 of
/// an empty sequence. Prefill rows that start a sequence at position 0 reset that slot first.
/// </remarks>
public sealed partial class CpuBackend : IModelBackend
{
    private readonly ModelConfig _config;
    private readonly CpuWeights _weights;
    private readonly PhasePlan _prefill;
    private readonly PhasePlan _decode;
    private readonly CpuBuffers _buffers;
    private readonly float[] _invFreq;
    private readonly int _layers, _slots, _hq, _hkv, _d;

    // The step being executed (set by Forward; the op methods read them).
    private StepBatch _batch = null!;
    private IReadOnlyList<Run> _runs = [];
    private int _layer;

    /// <summary>A contiguous block of one sequence's rows in the step.</summary>
    private readonly record struct Run(int Slot, int Row, int Count);

    /// <summary>Prepares the plan of <paramref name="options"/>' variant; caches are allocated on first use.</summary>
    public CpuBackend(CompiledModel model, ModelConfig config, CpuWeights weights, EngineOptions options)
    {
        _config = config;
        _weights = weights;
        Variant = options.Variant;
        Symbols = PlanSymbols.For(config, options, model.ShadowKV);
        _prefill = Phase(model, PhaseKind.Prefill, options.Variant);
        _decode = Phase(model, PhaseKind.Decode, options.Variant);
        _layers = checked((int)config.NumHiddenLayers);
        _slots = options.MaxBatch;
        _hq = checked((int)config.NumAttentionHeads);
        _hkv = checked((int)config.NumKeyValueHeads);
        _d = checked((int)config.HeadDim);
        _invFreq = config.RopeInverseFrequencies();
        _buffers = new CpuBuffers([_prefill, _decode], Symbols, _layers);
        foreach (PlanStep step in _prefill.Steps.Concat(_decode.Steps))
        {
            Contract(step);
        }
    }

    public string DeviceName => $"cpu (managed float32, {Environment.ProcessorCount} threads)";

    public AttentionVariant Variant { get; }

    public PlanSymbols Symbols { get; }

    /// <summary>
    /// The float32 weights and every array allocated so far (caches are allocated on first use, so this grows with
    /// the first prefill); the values a GPU would pin in host memory are counted as host bytes.
    /// </summary>
    public (long DeviceBytes, long PinnedHostBytes) Footprint
    {
        get
        {
            (long device, long host) = _buffers.AllocatedBytes();
            return (_weights.Float32Bytes + device, host);
        }
    }

    public float[] Forward(PhaseKind phase, StepBatch batch)
    {
        PhasePlan plan = phase == PhaseKind.Prefill ? _prefill : _decode;
        Validate(phase, batch);
        _batch = batch;
        _runs = Runs(batch);
        foreach (Run run in _runs.Where(r => phase == PhaseKind.Prefill && batch.Positions[r.Row] == 0))
        {
            ResetSlot(run.Slot);
        }

        _buffers.BeginStep(plan, Symbols.ForStep(batch.TokenCount));
        WriteMetadata();
        RunScope(plan, StepScope.Prologue, 0);
        for (int layer = 0; layer < _layers; layer++)
        {
            RunScope(plan, StepScope.Layer, layer);
        }

        RunScope(plan, StepScope.Epilogue, _layers - 1);
        string logits = plan.Steps[^1].Outputs[0];
        return _buffers.F(logits, 0).ToArray();
    }

    public void ResetSlot(int slot)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(slot);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(slot, _slots);
        _buffers.ResetSlot(slot, _slots);
    }

    public void Dispose()
    {
    }

    private static PhasePlan Phase(CompiledModel model, PhaseKind kind, AttentionVariant variant) =>
        model.Phases.FirstOrDefault(p => p.Kind == kind && p.Variant == variant)
        ?? throw new NotSupportedException($"Model '{model.Name}' has no {kind} plan for {variant} attention.");

    private void Validate(PhaseKind phase, StepBatch batch)
    {
        if (batch.LastRow.Length != _slots)
        {
            throw new ArgumentException($"The step is built for {batch.LastRow.Length} slots; this backend holds {_slots}.", nameof(batch));
        }

        if (phase == PhaseKind.Decode && (batch.TokenCount != _slots || Enumerable.Range(0, _slots).Any(b => batch.TokenSeq[b] != b)))
        {
            throw new ArgumentException($"A decode step carries one token for every slot in slot order (T = B = {_slots}); got {batch.TokenCount} tokens.", nameof(batch));
        }

        // Prefill steps are capped by the plan's T (PrefillStepTokens); a decode step always carries B tokens, which
        // may exceed T (a batch of short prompts).
        long maxTokens = phase == PhaseKind.Decode ? _slots : Symbols["T"];
        if (batch.TokenCount == 0 || batch.TokenCount > maxTokens)
        {
            throw new ArgumentException($"A step carries 1 … {maxTokens} tokens; got {batch.TokenCount}.", nameof(batch));
        }
    }

    private static List<Run> Runs(StepBatch batch)
    {
        var runs = new List<Run>();
        for (int row = 0; row < batch.TokenCount;)
        {
            int start = row, slot = batch.TokenSeq[row];
            while (row < batch.TokenCount && batch.TokenSeq[row] == slot)
            {
                if (row > start && batch.Positions[row] != batch.Positions[row - 1] + 1)
                {
                    throw new ArgumentException($"Slot {slot}'s positions are not consecutive at row {row}.", nameof(batch));
                }

                row++;
            }

            runs.Add(new Run(slot, start, row - start));
        }

        return runs;
    }

    // Metadata inputs (OpContracts): tokens, positions, token_seq, last_row, context_len, prompt_len and inv_freq.
    private void WriteMetadata()
    {
        void Ints(string name, int[] values)
        {
            if (_buffers.Has(name))
            {
                values.CopyTo(_buffers.I(name, 0));
            }
        }

        Ints("tokens", _batch.Tokens);
        Ints("positions", _batch.Positions);
        Ints("token_seq", _batch.TokenSeq);
        Ints("last_row", _batch.LastRow);
        Ints("context_len", _batch.ContextLen);
        Ints("prompt_len", _batch.PromptLen);
        if (_buffers.Has("inv_freq"))
        {
            _invFreq.CopyTo(_buffers.F("inv_freq", 0));
        }
    }

    // A node lowered to several steps (Solver + kernel, partial + combine) is computed once, at its first step.
    private void RunScope(PhasePlan plan, StepScope scope, int layer)
    {
        _layer = layer;
        var done = new HashSet<string>(StringComparer.Ordinal);
        foreach (PlanStep step in plan.Steps.Where(s => s.Scope == scope))
        {
            if (done.Add(step.Node))
            {
                Execute(step);
            }
        }
    }

    private void Execute(PlanStep step)
    {
        switch (step.Op)
        {
            case OpContracts.Embedding: Embedding(step); break;
            case OpContracts.RmsNorm: RmsNorm(step); break;
            case OpContracts.AddRmsNorm: AddRmsNorm(step); break;
            case OpContracts.GatherRows: GatherRows(step); break;
            case OpContracts.Linear: Linear(step); break;
            case OpContracts.SiluMul: SiluMul(step); break;
            case OpContracts.RopeKvAppend: RopeKvAppend(step); break;
            case OpContracts.FlashAttention: FlashAttention(step); break;
            case OpContracts.DecodeAttention: DecodeAttention(step); break;
            case OpContracts.KeyGram: KeyGram(step); break;
            case OpContracts.KeyEigenbasis: KeyEigenbasis(step); break;
            case OpContracts.KeyProjection: KeyProjection(step); break;
            case OpContracts.Landmarks: Landmarks(step); break;
            case OpContracts.OffloadValues or OpContracts.KeepValues: StoreValues(step); break;
            case OpContracts.RopeAppendGenerated: RopeAppendGenerated(step); break;
            case OpContracts.LandmarkScores: LandmarkScores(step); break;
            case OpContracts.TopKChunks: TopKChunks(step); break;
            case OpContracts.SelectionDiff: SelectionDiff(step); break;
            case OpContracts.RebuildKeysRope: RebuildKeysRope(step); break;
            case OpContracts.FetchValues: FetchValues(step); break;
            case OpContracts.SparseAttention: SparseAttention(step); break;
            default: throw Unsupported(step, "has no CPU implementation");
        }
    }

    private static OpContract Contract(PlanStep step)
    {
        if (!OpContracts.All.TryGetValue(step.Op, out OpContract? contract))
        {
            throw Unsupported(step, "is not in the op vocabulary (OpContracts)");
        }

        if (step.Inputs.Count != contract.Inputs.Count || step.Outputs.Count != contract.Outputs.Count)
        {
            throw Unsupported(step, $"has {step.Inputs.Count} inputs and {step.Outputs.Count} outputs; the contract has {contract.Inputs.Count} and {contract.Outputs.Count}");
        }

        return contract;
    }

    private static NotSupportedException Unsupported(PlanStep step, string problem) =>
        new($"Plan op '{step.Op}' (node '{step.Node}', from {step.Origin}) {problem}.");

    // ---- role and attribute access ----

    private string InName(PlanStep step, string role) => step.Inputs[Contract(step).InputIndex(role)];

    private string OutName(PlanStep step, string role) => step.Outputs[Contract(step).OutputIndex(role)];

    private Span<float> InF(PlanStep step, string role) => Resolve(InName(step, role));

    private Span<int> InI(PlanStep step, string role) => _buffers.I(InName(step, role), _layer);

    private Span<float> OutF(PlanStep step, string role) => _buffers.F(OutName(step, role), _layer);

    private Span<int> OutI(PlanStep step, string role) => _buffers.I(OutName(step, role), _layer);

    // "" is an absent optional role; "w.*" is a weight of the current layer; anything else is a buffer.
    private Span<float> Resolve(string name) =>
        name.Length == 0 ? default
        : name.StartsWith("w.", StringComparison.Ordinal) ? _weights.Get(name, _layer)
        : _buffers.F(name, _layer);

    private int Width(string name) => _buffers.Dim(name, -1);

    private int Sym(string symbol) => checked((int)Symbols[symbol]);

    private int AttrInt(PlanStep step, string attribute) => checked((int)Symbols.Evaluate(Attribute(step, attribute)));

    private float AttrFloat(PlanStep step, string attribute)
    {
        string value = Attribute(step, attribute);
        return value == "rms_eps" ? (float)_config.RmsNormEps : float.Parse(value, CultureInfo.InvariantCulture);
    }

    private static string Attribute(PlanStep step, string attribute) =>
        step.Attributes.TryGetValue(attribute, out string? value) ? value : throw Unsupported(step, $"lacks attribute '{attribute}'");
}
