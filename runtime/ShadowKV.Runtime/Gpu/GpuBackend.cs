using System.Diagnostics;
using ShadowKV.Compiler.Plans;
using ShadowKV.Runtime.Cuda;
using ShadowKV.Runtime.Interop;
using ShadowKV.Runtime.Engine.Checkpoints;
using ShadowKV.Runtime.Engine.Execution;

namespace ShadowKV.Runtime.Gpu;

/// <summary>GPU time of one kernel or GEMM summed over <paramref name="Steps"/> profiled decode steps.</summary>
public sealed record ProfileEntry(string Label, double Milliseconds, long Launches, long Steps)
{
    /// <summary>Milliseconds per decode step.</summary>
    public double MillisecondsPerStep => Steps > 0 ? Milliseconds / Steps : 0;
}

/// <summary>NVRTC compilation of one phase: how many kernels, whether it came from the cubin cache, how long it took.</summary>
public sealed record PhaseCompilation(string Phase, string SourceName, IReadOnlyList<string> NameExpressions, bool FromCache, TimeSpan Elapsed);

/// <summary>
/// Runs a compiled model's plan on one GPU: the phase's generated CUDA compiled by NVRTC (cubins cached on disk),
/// weights uploaded once as bf16, one device arena holding the plan's Pass/Transient/scratch buffers at their plan
/// offsets, per-layer cache blocks, pinned host memory for HostCache buffers, named streams with events for every
/// cross-stream edge, dense GEMMs through cuBLASLt and the ShadowKV eigen-decomposition through cuSOLVER. Nothing
/// runs on the default stream; every launch goes through the <see cref="Launcher"/>.
/// </summary>
/// <remarks>
/// Launch argument lists, GEMM descriptors and buffer pointers are prepared once per (phase, T) and reused; a step
/// then only uploads its metadata, enqueues the prepared work and copies the last rows' logits back.
/// Not thread-safe: one caller at a time.
/// </remarks>
public sealed partial class GpuBackend : IModelBackend
{
    private readonly CompiledModel model;
    private readonly ModelConfig config;
    private readonly EngineOptions options;
    private readonly CudaDevice device;
    private readonly bool ownsDevice;
    private readonly Launcher launcher;
    private readonly Dictionary<PhaseKind, PhasePlan> phases = [];
    private readonly Dictionary<PhaseKind, CudaModule> modules = [];
    private readonly Dictionary<string, CudaStream> streams = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CudaEvent> events = new(StringComparer.Ordinal);
    private readonly Dictionary<(PhaseKind Phase, int T), StepProgram> programs = [];
    private readonly List<PhaseCompilation> compilations = [];
    private readonly List<string> notes = [];
    private readonly float[] inverseFrequencies;
    private CudaStream compute = null!;
    private StepBatch? currentBatch;
    private bool disposed;

    private GpuBackend(CompiledModel model, ModelConfig config, EngineOptions options, CudaDevice device, bool ownsDevice)
    {
        this.model = model;
        this.config = config;
        this.options = options;
        this.device = device;
        this.ownsDevice = ownsDevice;
        launcher = new Launcher(device);
        Symbols = PlanSymbols.For(config, options, model.ShadowKV);
        notes.AddRange(Symbols.Notes);
        inverseFrequencies = config.RopeInverseFrequencies();
    }

    /// <summary>
    /// Builds a backend for <paramref name="options"/>.Variant: compiles both phases (or reads them from
    /// <paramref name="kernelCache"/>), checks that weights, arena, caches and pinned host memory fit (throwing
    /// <see cref="AdmissionException"/> before allocating anything when they do not), then allocates and uploads.
    /// </summary>
    /// <param name="device">The GPU; opened (device 0) and owned by the backend when null.</param>
    /// <param name="kernelCache">The cubin cache; <see cref="KernelCache.DefaultDirectory"/> when null.</param>
    /// <param name="margins">Headroom admission keeps free; <see cref="AdmissionMargins.Default"/> when null.</param>
    public static GpuBackend Create(
        CompiledModel model, ModelConfig config, BoundWeights weights, EngineOptions options,
        CudaDevice? device = null, KernelCache? kernelCache = null, AdmissionMargins? margins = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(options);
        bool owns = device is null;
        device ??= CudaDevice.Open();
        var backend = new GpuBackend(model, config, options, device, owns);
        try
        {
            backend.SelectPhases();
            backend.CheckLaunchLimits();
            backend.Compile(kernelCache ?? new KernelCache());
            backend.Allocate(weights, margins ?? AdmissionMargins.Default);
            return backend;
        }
        catch
        {
            backend.Dispose();
            throw;
        }
    }

    public string DeviceName => device.Name;

    public AttentionVariant Variant => options.Variant;

    public PlanSymbols Symbols { get; }

    /// <summary>The two phases' compilations (cold: NVRTC; warm: cubin cache hits).</summary>
    public IReadOnlyList<PhaseCompilation> Compilations => compilations;

    /// <summary>Adjustments and plan inconsistencies the backend worked around, for the user to see.</summary>
    public IReadOnlyList<string> Notes => notes;

    /// <summary>Bytes this backend allocated on the device (weights, arena, workspaces, caches) and in pinned host memory.</summary>
    public (long DeviceBytes, long PinnedHostBytes) Footprint => (memory.DeviceBytes, memory.PinnedBytes);

    /// <summary>Kernel launches so far (all phases).</summary>
    public long LaunchCount => launcher.LaunchCount;

    public float[] Forward(PhaseKind phase, StepBatch batch)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        ArgumentNullException.ThrowIfNull(batch);
        int t = batch.TokenCount;
        long maxT = phase == PhaseKind.Prefill ? Symbols["T"] : Symbols["B"];
        if (t <= 0 || t > maxT)
        {
            throw new ArgumentOutOfRangeException(nameof(batch), $"A {phase} step of {t} tokens; this engine takes 1 … {maxT}.");
        }

        if (batch.LastRow.Length != Symbols["B"])
        {
            throw new ArgumentException($"The step describes {batch.LastRow.Length} slots; the engine has B = {Symbols["B"]}.", nameof(batch));
        }

        StepProgram program = ProgramFor(phase, t);
        currentBatch = batch;
        try
        {
            UploadMetadata(program, batch);
            if (phase == PhaseKind.Decode && options.ProfileDecode)
            {
                EnqueueProfiled(program);
                float[] logits = ReadLogits(program, batch); // synchronises: every event has completed
                AccumulateProfile(program);
                return logits;
            }

            if (phase == PhaseKind.Decode && DecodeGraphFor(program) is CudaGraph graph)
            {
                graph.Launch(compute);
            }
            else
            {
                Enqueue(program);
            }

            return ReadLogits(program, batch);
        }
        finally
        {
            currentBatch = null;
        }
    }

    /// <summary>
    /// With <see cref="EngineOptions.ProfileDecode"/>: GPU time per kernel and GEMM summed over the decode steps so far,
    /// most expensive first. Steps on side streams overlap the compute stream, so the sum may exceed wall time.
    /// </summary>
    public IReadOnlyList<ProfileEntry> DecodeProfile =>
        [.. profile.Select(p => new ProfileEntry(p.Key, p.Value.Milliseconds, p.Value.Launches, profiledSteps))
            .OrderByDescending(e => e.Milliseconds).ThenBy(e => e.Label, StringComparer.Ordinal)];

    private readonly Dictionary<string, (double Milliseconds, long Launches)> profile = new(StringComparer.Ordinal);
    private long profiledSteps;

    private void EnqueueProfiled(StepProgram program)
    {
        while (program.ProfileEvents.Count < program.Steps.Count)
        {
            int i = program.ProfileEvents.Count;
            program.ProfileEvents.Add((CudaEvent.Create(device, $"profile.{i}.start", timing: true), CudaEvent.Create(device, $"profile.{i}.end", timing: true)));
        }

        for (int i = 0; i < program.Steps.Count; i++)
        {
            program.Steps[i].Enqueue(program.ProfileEvents[i]);
        }

        JoinStreams();
    }

    private void AccumulateProfile(StepProgram program)
    {
        for (int i = 0; i < program.Steps.Count; i++)
        {
            string label = program.Steps[i].Label;
            double ms = CudaEvent.ElapsedMilliseconds(program.ProfileEvents[i].Start, program.ProfileEvents[i].End);
            (double total, long launches) = profile.GetValueOrDefault(label);
            profile[label] = (total + ms, launches + 1);
        }

        profiledSteps++;
    }

    /// <summary>Decode steps replayed from a CUDA graph so far.</summary>
    public long GraphReplays { get; private set; }

    private void Enqueue(StepProgram program)
    {
        foreach (PreparedStep step in program.Steps)
        {
            step.Enqueue();
        }

        JoinStreams();
    }

    // A decode program's steps depend only on T (pointers, launch shapes and arguments are fixed per program; the
    // step's tokens and positions arrive through the metadata buffers uploaded before), so one capture per T replays
    // every later step of that size. A capture the driver refuses leaves this program eager and says why in Notes.
    private CudaGraph? DecodeGraphFor(StepProgram program)
    {
        if (!options.DecodeGraphs || launcher.SynchronizeEachLaunch || program.GraphRefused)
        {
            return null; // SKV_CUDA_SYNC debugging synchronises after each launch, which a capture cannot contain
        }

        if (program.Graph is null)
        {
            try
            {
                program.Graph = CudaGraph.Capture(compute, _ => Enqueue(program), $"{program.Phase.Name} T={program.Tokens}");
            }
            catch (Exception e) when (e is CudaException or CublasException)
            {
                // Nothing captured ran, and Capture ended the capture: the step runs eagerly below, as will later ones.
                program.GraphRefused = true;
                notes.Add($"{program.Phase.Name} at T = {program.Tokens} runs eagerly: CUDA graph capture failed ({e.Message}).");
                return null;
            }
        }

        GraphReplays++;
        return program.Graph;
    }

    public void ResetSlot(int slot)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (slot < 0 || slot >= Symbols["B"])
        {
            throw new ArgumentOutOfRangeException(nameof(slot), $"Slot {slot} is outside the batch of {Symbols["B"]}.");
        }

        ResetSelectionState(slot);
        compute.Synchronize();
    }

    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        try
        {
            foreach (CudaStream stream in streams.Values)
            {
                stream.Synchronize();
            }
        }
        catch (Exception)
        {
            // A failed kernel leaves the context unusable; disposal still releases the handles below.
        }

        foreach (StepProgram program in programs.Values)
        {
            program.Dispose();
        }

        foreach (CublasLtGemm gemm in gemms.Values)
        {
            gemm.Dispose();
        }

        eigensolver?.Dispose();
        cublas?.Dispose();
        memory.Dispose();
        foreach (CudaModule module in modules.Values)
        {
            module.Dispose();
        }

        foreach (CudaEvent cudaEvent in events.Values)
        {
            cudaEvent.Dispose();
        }

        foreach (CudaStream stream in streams.Values)
        {
            stream.Dispose();
        }

        if (ownsDevice)
        {
            device.Dispose();
        }
    }

    private void SelectPhases()
    {
        foreach (PhaseKind kind in (ReadOnlySpan<PhaseKind>)[PhaseKind.Prefill, PhaseKind.Decode])
        {
            phases[kind] = model.Phases.SingleOrDefault(p => p.Kind == kind && p.Variant == options.Variant)
                ?? throw new InvalidOperationException($"Model {model.Name} has no {kind} phase for attention variant {options.Variant}.");
        }

        foreach (string name in phases.Values.SelectMany(p => p.Streams).Distinct(StringComparer.Ordinal))
        {
            streams[name] = CudaStream.Create(device, name);
        }

        compute = streams.TryGetValue("compute", out CudaStream? main) ? main : streams.Values.First();
        foreach (string name in phases.Values.SelectMany(p => p.Steps).Select(s => s.RecordEvent).OfType<string>().Distinct(StringComparer.Ordinal))
        {
            events[name] = CudaEvent.Create(device, name);
        }

        foreach (CudaStream stream in streams.Values.Where(s => s != compute))
        {
            events["join." + stream.Name] = CudaEvent.Create(device, "join." + stream.Name);
        }
    }

    // Kernel arguments bound from size expressions are 32-bit ints, and CUDA caps grid dimensions (x < 2³¹, y and z
    // ≤ 65535). Both are checked at the largest step of each phase before anything is allocated, so a context or batch
    // too large for a kernel is refused up front, naming the kernel and the expression, instead of overflowing later.
    private void CheckLaunchLimits()
    {
        foreach ((PhaseKind kind, PhasePlan phase) in phases)
        {
            PlanSymbols symbols = Symbols.ForStep(MaxTokens(kind));
            foreach (PlanStep step in phase.Steps.Where(s => s.Launch is not null))
            {
                KernelLaunch launch = step.Launch!;
                foreach (string binding in launch.Arguments.Where(b => b.StartsWith("sym:", StringComparison.Ordinal)))
                {
                    Refuse(step, binding[4..], symbols.Evaluate(binding[4..]), int.MaxValue, "a 32-bit kernel argument");
                }

                for (int axis = 0; axis < 3; axis++)
                {
                    Refuse(step, launch.Grid[axis], symbols.Evaluate(launch.Grid[axis]), axis == 0 ? int.MaxValue : 65535, $"grid dimension {"xyz"[axis]}");
                }
            }

            void Refuse(PlanStep step, string expression, long value, long limit, string what)
            {
                if (value > limit)
                {
                    throw new NotSupportedException(
                        $"{phase.Name} step {step.Node} ({step.Launch!.Kernel}): {expression} = {value} at T = {symbols["T"]} exceeds {what} ({limit}). " +
                        "Reduce the prompt length, the prefill step (PrefillStepTokens / PrefillChunkTokens) or the batch size.");
                }
            }
        }
    }

    private void Compile(KernelCache cache)
    {
        foreach ((PhaseKind kind, PhasePlan phase) in phases)
        {
            CudaSource source = model.Sources.SingleOrDefault(s => s.Name == phase.CudaSource)
                ?? throw new InvalidOperationException($"Phase {phase.Name} names CUDA source '{phase.CudaSource}', which model {model.Name} does not have.");
            string[] names = KernelInstantiations.For(phase, Symbols).ToArray();
            string sourceName = $"{model.Name.ToLowerInvariant()}_{phase.Name.Replace('.', '_')}.cu";
            CompiledKernels compiled = cache.Compile(sourceName, source.Text, device.Arch, names);
            compilations.Add(new PhaseCompilation(phase.Name, sourceName, names, compiled.FromCache, compiled.Elapsed));
            modules[kind] = CudaModule.Load(device, compiled);
        }
    }

    private StepProgram ProgramFor(PhaseKind phase, int t)
    {
        if (!programs.TryGetValue((phase, t), out StepProgram? program))
        {
            var clock = Stopwatch.StartNew();
            program = BuildProgram(phase, t);
            program.BuildTime = clock.Elapsed;
            programs[(phase, t)] = program;
        }

        return program;
    }

    // Work on other streams joins the compute stream before the logits are read, so the next step cannot overwrite
    // what a side stream still reads.
    private void JoinStreams()
    {
        foreach (CudaStream stream in streams.Values.Where(s => s != compute))
        {
            CudaEvent join = events["join." + stream.Name];
            stream.Record(join);
            compute.Wait(join);
        }
    }
}
