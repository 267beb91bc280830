using System.Globalization;
using System.Runtime.InteropServices;
using ShadowKV.Compiler;
using ShadowKV.Compiler.Plans;
using ShadowKV.Runtime.Engine.Checkpoints;
using ShadowKV.Runtime.Engine.Execution;
using ShadowKV.Runtime.Engine.Sampling;
using ShadowKV.Runtime.Gpu;
using ShadowKV.Runtime.Interop;

namespace ShadowKV.Runtime.Engine.Benchmarking;

/// <summary>
/// Decode throughput of full attention against ShadowKV: for every (context, batch) it builds one engine per variant,
/// prefills the same seeded random prompts, times the decode steps, records memory, and disposes the engine before the
/// next cell. A cell that does not fit (admission, out of memory, a context beyond the model, a backend that refuses
/// the shape) is recorded with its reason and the run goes on. The peer, when given, measures the same (context,
/// batch) right after the engine's cells.
/// </summary>
public sealed class ThroughputBenchmark
{
    private readonly ThroughputBenchmarkOptions _options;
    private readonly IReadOnlyList<CompiledModel> _models;
    private readonly IThroughputPeer? _peer;

    public ThroughputBenchmark(ThroughputBenchmarkOptions options, IReadOnlyList<CompiledModel> models, IThroughputPeer? peer = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(models);
        if (options.Contexts.Count == 0 || options.Batches.Count == 0 || options.Variants.Count == 0)
        {
            throw new ArgumentException("A benchmark needs at least one context, one batch size and one attention variant.", nameof(options));
        }

        if (options.Contexts.Concat(options.Batches).Any(n => n <= 0) || options.DecodeSteps <= 0 || options.WarmupSteps < 1)
        {
            throw new ArgumentException("Contexts, batch sizes, decode steps and warm-up steps must be positive (the first decode step builds the step shape, so it is never timed).", nameof(options));
        }

        _options = options;
        _models = models;
        _peer = peer;
        (Model, Config) = Describe(options, models);
    }

    /// <summary>The model every cell runs (name, weights and shape), known before any cell is built.</summary>
    public BenchmarkModel Model { get; }

    public ModelConfig Config { get; }

    /// <summary>
    /// Runs every cell: contexts in order, then batch sizes, then variants (full attention first, so each ShadowKV cell's
    /// speedup is known when it is reported). <paramref name="onCell"/> and <paramref name="onPeer"/> see each result as
    /// it completes.
    /// </summary>
    public BenchmarkReport Run(Action<BenchmarkCell>? onCell = null, Action<PeerCell>? onPeer = null)
    {
        var cells = new List<BenchmarkCell>();
        var peerCells = new List<PeerCell>();
        var variants = _options.Variants.Distinct().OrderBy(v => v == AttentionVariant.Full ? 0 : 1).ToList();
        foreach (int context in _options.Contexts)
        {
            foreach (int batch in _options.Batches)
            {
                int[][] prompts = Prompts(_options.Seed, context, batch, (int)Config.VocabSize);
                BenchmarkCell? full = null;
                foreach (AttentionVariant variant in variants)
                {
                    BenchmarkCell cell = RunCell(variant, prompts);
                    full ??= variant == AttentionVariant.Full ? cell : null;
                    cell = cell with { SpeedupOverFull = Speedup(cell, full) };
                    cells.Add(cell);
                    onCell?.Invoke(cell);
                }

                if (_peer is not null)
                {
                    PeerCell peer = RunPeer(_peer, context, batch);
                    peerCells.Add(peer);
                    onPeer?.Invoke(peer);
                }
            }
        }

        string device = cells.Select(c => c.Device).FirstOrDefault(d => d is not null) ?? _options.Engine.Device.ToString().ToLowerInvariant();
        var machine = new BenchmarkMachine(device, Environment.ProcessorCount, RuntimeInformation.OSDescription, RuntimeInformation.FrameworkDescription);
        var settings = new BenchmarkRunSettings(_options.Seed, _options.WarmupSteps, _options.DecodeSteps,
            _options.Engine.Device.ToString().ToLowerInvariant(), _peer?.Name ?? "none");
        return new BenchmarkReport(machine, Model, settings, cells, peerCells);
    }

    /// <summary>Decode throughput of <paramref name="cell"/> over <paramref name="full"/>'s, when both were measured (and the cell is not the baseline itself).</summary>
    public static double? Speedup(BenchmarkCell cell, BenchmarkCell? full) =>
        full is { Measurement: { TokensPerSecond: > 0 } baseline } && cell.Variant != full.Variant && cell.Measurement is { } measured
        && full.Context == cell.Context && full.Batch == cell.Batch
            ? measured.TokensPerSecond / baseline.TokensPerSecond
            : null;

    /// <summary>
    /// <paramref name="batch"/> seeded prompts of exactly <paramref name="context"/> ids in [3, vocab) (0…2 are the usual
    /// pad/BOS/EOS ids). Every variant of one (context, batch) reads the same prompts.
    /// </summary>
    public static int[][] Prompts(ulong seed, int context, int batch, int vocab)
    {
        var random = new DeterministicRandom(seed ^ ((ulong)context << 24) ^ (ulong)batch);
        var prompts = new int[batch][];
        for (int b = 0; b < batch; b++)
        {
            prompts[b] = new int[context];
            for (int t = 0; t < context; t++)
            {
                prompts[b][t] = 3 + (int)(random.NextUInt64() % (ulong)(vocab - 3));
            }
        }

        return prompts;
    }

    private BenchmarkCell RunCell(AttentionVariant variant, int[][] prompts)
    {
        int context = prompts[0].Length, batch = prompts.Length;
        var cell = new BenchmarkCell(Label(variant), context, batch, CellStatus.Measured, null, null, null, null, [], null);
        if (Refusal(context) is { } refusal)
        {
            return cell with { Status = CellStatus.DoesNotFit, Reason = refusal };
        }

        EngineOptions options = _options.Engine with
        {
            Variant = variant,
            MaxBatch = batch,
            MaxPromptTokens = context,
            MaxNewTokens = _options.NewTokensPerSequence,
            PrefillChunkTokens = null,
        };

        // A benchmark of many cells must survive any one of them: a failure becomes that cell's result, and the
        // engine is disposed (its GPU memory freed) before the next cell is built.
        InferenceEngine? engine = null;
        try
        {
            engine = Build(options);
            ShadowKVCellSettings? shadow = variant == AttentionVariant.ShadowKV ? Settings(engine) : null;
            cell = cell with
            {
                Device = engine.Backend.DeviceName,
                Notes = [.. engine.Notes, .. CoverageNote(shadow, context)],
                ShadowKV = shadow,
            };
            DecodeTiming timing = engine.TimeDecode(prompts, _options.WarmupSteps, _options.DecodeSteps);
            (long deviceBytes, long pinnedBytes) = engine.Backend.Footprint;
            return cell with
            {
                Profile = Profile(engine.Backend),
                Measurement = new CellMeasurement(timing.PrefillTime.TotalSeconds, timing.TokensPerSecond, timing.MillisecondsPerStep,
                    timing.WarmupSteps, timing.DecodeSteps, deviceBytes, pinnedBytes),
            };
        }
        catch (Exception exception)
        {
            return cell with { Status = DoesNotFit(exception) ? CellStatus.DoesNotFit : CellStatus.Failed, Reason = Describe(exception) };
        }
        finally
        {
            engine?.Dispose();
        }
    }

    private PeerCell RunPeer(IThroughputPeer peer, int context, int batch)
    {
        if (Refusal(context) is { } refusal)
        {
            return new PeerCell(peer.Name, context, batch, PeerStatus.DoesNotFit, refusal, null, null, null, null, null);
        }

        try
        {
            return peer.Measure(new PeerRequest(Config, context, batch, _options.WarmupSteps, _options.DecodeSteps, _options.Seed));
        }
        catch (Exception exception)
        {
            return new PeerCell(peer.Name, context, batch, PeerStatus.Failed, Describe(exception), null, null, null, null, null);
        }
    }

    // Positions beyond the model's context are refused before anything is built (the engine would refuse them too).
    private string? Refusal(int context)
    {
        long needed = context + (long)_options.NewTokensPerSequence;
        return needed > Config.MaxPositionEmbeddings
            ? string.Create(CultureInfo.InvariantCulture,
                $"context {context} + {_options.NewTokensPerSequence} generated tokens exceeds the model's {Config.MaxPositionEmbeddings} positions")
            : null;
    }

    private InferenceEngine Build(EngineOptions options) =>
        _options.ModelDirectory is { } directory
            ? InferenceEngine.Load(directory, options, _models)
            : InferenceEngine.CreateRandom(options, _models, Config, _options.Preset, _options.Seed);

    // A budget that covers the context makes ShadowKV attend to every token, as full attention does: the comparison
    // then measures overheads, not sparsity, and the reader should know.
    private static IEnumerable<string> CoverageNote(ShadowKVCellSettings? shadow, int context)
    {
        if (shadow is null)
        {
            yield break;
        }

        long covered = shadow.BudgetTokens + (shadow.OutlierChunks + shadow.LocalChunks) * shadow.ChunkSize;
        if (covered >= context)
        {
            yield return string.Create(CultureInfo.InvariantCulture,
                $"ShadowKV at {context} tokens: its budget plus outlier and local chunks ({covered} tokens) cover the whole context, so it attends to every token as full attention does; use a longer --context or a smaller --budget to measure sparsity.");
        }
    }

    // The GPU backend's decode profile (warm-up and timed steps), when the engine options asked for one.
    private static IReadOnlyList<CellProfileLine>? Profile(IModelBackend backend)
    {
        if (backend is not GpuBackend gpu || gpu.DecodeProfile is not { Count: > 0 } entries)
        {
            return null;
        }

        double total = entries.Sum(e => e.MillisecondsPerStep);
        return [.. entries.Select(e => new CellProfileLine(e.Label, e.MillisecondsPerStep, e.MillisecondsPerStep / total))];
    }

    private static ShadowKVCellSettings Settings(InferenceEngine engine)
    {
        PlanSymbols symbols = engine.Backend.Symbols;
        ValuePlacement values = engine.Options.ResolveShadowKV(engine.Model.ShadowKV).Values;
        return new ShadowKVCellSettings(symbols["k"] * symbols["c"], symbols["r"], symbols["c"], symbols["o"], symbols["nloc"],
            values.ToString().ToLowerInvariant());
    }

    private static (BenchmarkModel Model, ModelConfig Config) Describe(ThroughputBenchmarkOptions options, IReadOnlyList<CompiledModel> models)
    {
        if (options.ModelDirectory is { } path)
        {
            // Opening the directory validates config, checkpoint header and architecture before the first cell.
            using ModelDirectory directory = ModelDirectory.Open(path, models.SelectMany(m => m.Architectures).Distinct().ToArray());
            InferenceEngine.Pick(models, directory.Config);
            return (BenchmarkModel.From(Path.GetFileName(directory.Path), $"checkpoint {directory.Path}", directory.Config), directory.Config);
        }

        ModelConfig config = options.PresetShape ?? ModelConfig.Preset(options.Preset);
        InferenceEngine.Pick(models, config);
        return (BenchmarkModel.From(options.Preset, InferenceEngine.RandomModelLabel, config), config);
    }

    private static string Label(AttentionVariant variant) => variant == AttentionVariant.Full ? "full" : "shadowkv";

    private static bool DoesNotFit(Exception exception) => exception switch
    {
        OutOfMemoryException => true, // AdmissionException included: refused before allocating
        NotSupportedException => true, // the backend cannot run this model or variant here
        CudaException { Result: CuResult.OutOfMemory } => true,
        _ => false,
    };

    // Expected refusals read as their message; anything else names its type so a bug is not mistaken for a limit.
    private static string Describe(Exception exception) =>
        DoesNotFit(exception) || exception is ArgumentException ? exception.Message : $"{exception.GetType().Name}: {exception.Message}";
}
