using ShadowKV.Compiler.Plans;
using ShadowKV.Runtime.Engine.Execution;

namespace ShadowKV.Runtime.Cpu;

/// <summary>
/// The CPU backend's storage for a plan's named buffers: float32 arrays for f32/bf16 buffers (the CPU computes in
/// float32 throughout), int arrays for i32. Cache buffers are per layer and live as long as the backend; Pass and
/// Transient buffers are per step. The GPU arena's offsets and slot reuse are not reproduced: each name has its own
/// array, so aliasing on the CPU is exactly the aliasing the plan writes as equal names.
/// </summary>
internal sealed class CpuBuffers
{
    private readonly PlanSymbols _symbols;
    private readonly HashSet<string> _persistent;
    private readonly HashSet<string> _emptyIsMinusOne;
    private readonly Dictionary<string, BufferSpec> _cacheSpecs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Array>[] _layers;
    private readonly Dictionary<string, Array> _step = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _stepLengths = new(StringComparer.Ordinal);
    private Dictionary<string, BufferSpec> _stepSpecs = new(StringComparer.Ordinal);
    private PlanSymbols _stepSymbols;

    public CpuBuffers(IReadOnlyList<PhasePlan> phases, PlanSymbols symbols, int layers)
    {
        _symbols = symbols;
        _stepSymbols = symbols;
        _persistent = PersistentNames(phases);
        _emptyIsMinusOne = WorkingSlotNames(phases);
        foreach (BufferSpec spec in phases.SelectMany(p => p.Buffers).Where(b => _persistent.Contains(b.Name)))
        {
            _cacheSpecs.TryAdd(spec.Name, spec);
        }

        _layers = Enumerable.Range(0, layers).Select(_ => new Dictionary<string, Array>(StringComparer.Ordinal)).ToArray();
    }

    /// <summary>Sizes this step's buffers with <paramref name="stepSymbols"/> (T is the step's token count).</summary>
    public void BeginStep(PhasePlan phase, PlanSymbols stepSymbols)
    {
        _stepSpecs = phase.Buffers.ToDictionary(b => b.Name, StringComparer.Ordinal);
        _stepSymbols = stepSymbols;
        _stepLengths.Clear();
    }

    public bool IsCache(string name) => _persistent.Contains(name);

    public bool Has(string name) => _stepSpecs.ContainsKey(name) || _persistent.Contains(name);

    /// <summary>The float32 view of buffer <paramref name="name"/> in <paramref name="layer"/>, exactly its plan size.</summary>
    public Span<float> F(string name, int layer) => Get<float>(name, layer);

    /// <summary>The int32 view of buffer <paramref name="name"/> in <paramref name="layer"/>, exactly its plan size.</summary>
    public Span<int> I(string name, int layer) => Get<int>(name, layer);

    /// <summary>Dimension <paramref name="axis"/> of the buffer's shape (negative counts from the end).</summary>
    public int Dim(string name, int axis)
    {
        BufferSpec spec = Spec(name);
        string dim = spec.Shape[axis < 0 ? spec.Shape.Count + axis : axis];
        return checked((int)(IsCache(name) ? _symbols : _stepSymbols).Evaluate(dim));
    }

    /// <summary>
    /// Bytes of the arrays allocated so far (4 per element): HostCache buffers (what a GPU keeps in pinned host memory)
    /// apart from everything else (caches and the reusable step arrays).
    /// </summary>
    public (long Device, long Host) AllocatedBytes()
    {
        long device = _step.Values.Sum(a => a.LongLength * 4), host = 0;
        foreach ((string name, Array array) in _layers.SelectMany(layer => layer))
        {
            if (_cacheSpecs[name].Lifetime == BufferLifetime.HostCache)
            {
                host += array.LongLength * 4;
            }
            else
            {
                device += array.LongLength * 4;
            }
        }

        return (device, host);
    }

    /// <summary>Empties one sequence slot in every layer's caches: zeros, and −1 (empty) in working-slot tables.</summary>
    public void ResetSlot(int slot, int slots)
    {
        foreach (Dictionary<string, Array> layer in _layers)
        {
            foreach ((string name, Array array) in layer)
            {
                long per = CacheLength(name) / slots;
                int start = checked((int)(slot * per)), count = checked((int)per);
                if (array is int[] ints)
                {
                    ints.AsSpan(start, count).Fill(_emptyIsMinusOne.Contains(name) ? -1 : 0);
                }
                else
                {
                    ((float[])array).AsSpan(start, count).Clear();
                }
            }
        }
    }

    private Span<T> Get<T>(string name, int layer)
    {
        BufferSpec spec = Spec(name);
        bool wantInt = typeof(T) == typeof(int);
        if (wantInt != (spec.Type == DataType.I32))
        {
            throw new InvalidOperationException($"Buffer '{name}' is {spec.Type}; an op read it as {(wantInt ? "i32" : "float")}.");
        }

        if (IsCache(name))
        {
            Dictionary<string, Array> caches = _layers[layer];
            if (!caches.TryGetValue(name, out Array? cache))
            {
                cache = Allocate(CacheLength(name), wantInt, _emptyIsMinusOne.Contains(name));
                caches[name] = cache;
            }

            return ((T[])cache).AsSpan();
        }

        if (!_stepLengths.TryGetValue(name, out long length))
        {
            length = Length(spec, _stepSymbols);
            _stepLengths[name] = length;
        }

        // Step arrays are reused across steps and only grow; the span is this step's exact size.
        if (!_step.TryGetValue(name, out Array? array) || array.LongLength < length)
        {
            array = Allocate(length, wantInt, fillMinusOne: false);
            _step[name] = array;
        }

        return ((T[])array).AsSpan(0, checked((int)length));
    }

    private BufferSpec Spec(string name) =>
        _stepSpecs.TryGetValue(name, out BufferSpec? spec) ? spec
        : _cacheSpecs.TryGetValue(name, out spec) ? spec
        : throw new KeyNotFoundException($"The plan names buffer '{name}', which no phase declares.");

    private long CacheLength(string name) => Length(_cacheSpecs[name], _symbols);

    private static long Length(BufferSpec spec, PlanSymbols symbols) => symbols.Elements(spec);

    private static Array Allocate(long length, bool isInt, bool fillMinusOne)
    {
        int n = checked((int)length);
        if (!isInt)
        {
            return new float[n];
        }

        var ints = new int[n];
        if (fillMinusOne)
        {
            Array.Fill(ints, -1);
        }

        return ints;
    }

    // Cache and HostCache buffers persist across steps (the plan puts the generated-token region there too).
    private static HashSet<string> PersistentNames(IReadOnlyList<PhasePlan> phases) =>
        phases.SelectMany(p => p.Buffers).Where(b => b.Lifetime is BufferLifetime.Cache or BufferLifetime.HostCache)
            .Select(b => b.Name).ToHashSet(StringComparer.Ordinal);

    // The working-slot table (selection_diff's slot_chunk) marks an empty slot with −1, not 0 (chunk 0 is real).
    private static HashSet<string> WorkingSlotNames(IReadOnlyList<PhasePlan> phases)
    {
        OpContract diff = OpContracts.All[OpContracts.SelectionDiff];
        return phases.SelectMany(p => p.Steps).Where(s => s.Op == OpContracts.SelectionDiff)
            .SelectMany(s => new[] { s.Inputs[diff.InputIndex("slot_chunk")], s.Outputs[diff.OutputIndex("slot_chunk_next")] })
            .ToHashSet(StringComparer.Ordinal);
    }
}
