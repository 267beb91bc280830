using System.Collections.Generic;
using System.Linq;
using ShadowKV.Compiler.Emit;
using ShadowKV.Compiler.Frontend;
using ShadowKV.Compiler.Ir;
using ShadowKV.Compiler.Lowering;
using ShadowKV.Compiler.Passes.ShadowKV;
using ShadowKV.Compiler.Plans;

namespace ShadowKV.Compiler.Passes;

/// <summary>A graph after one pass, for dumps and pass tests.</summary>
public sealed record PassSnapshot(string Pass, Graph Graph);

/// <summary>One compiled phase: its passes' snapshots (the last is final), memory plan and host plan.</summary>
public sealed record PhaseCompilation(IReadOnlyList<PassSnapshot> Snapshots, MemoryPlan Memory, PhasePlan Plan, string Cuda)
{
    public Graph Final => Snapshots[Snapshots.Count - 1].Graph;
}

/// <summary>The result of compiling a model: the plan (null when there are errors) and what went wrong.</summary>
public sealed record CompilationResult(CompiledModel? Model, IReadOnlyList<PhaseCompilation> Phases, IReadOnlyList<IrDiagnostic> Diagnostics);

/// <summary>
/// The table of contents of the compiler: every pass in order, with why it is there.
/// </summary>
public static class Pipeline
{
    /// <summary>Name of the CudaSource holding the engine's sampling kernels (not a phase).</summary>
    public const string SamplingSource = "sampling";

    /// <summary>Runs on the model graph before it is split into phases.</summary>
    public static IReadOnlyList<IPass> FrontEnd { get; } =
    [
        new InferShapes(),          // every later pass and the memory plan need shapes and storage types
        new Canonicalize(),         // one form per pattern (SiLU first, residual first) so fusions match once
        new EliminateDeadNodes(),   // code whose result nobody reads never becomes a kernel
    ];

    /// <summary>Runs on each phase after SplitPrefillDecode (the attention rewrite is chosen by phase and variant).</summary>
    public static IReadOnlyList<IPass> PhasePasses(PhaseKind phase, AttentionVariant variant) =>
    [
        variant == AttentionVariant.Full ? new LowerAttention()                  // exact attention over the KV cache
            : phase == PhaseKind.Prefill ? new RewritePrefillAttention()         // exact prefill + ShadowKV side outputs
            : new RewriteDecodeAttention(),                                      // sparse attention over selected chunks
        new Canonicalize(),          // decode: T = B, so the last-row gather disappears
        new FuseRopeIntoKvAppend(),  // one kernel rotates q/k and writes the cache
        new FuseAddRmsNorm(),        // residual add + norm in one pass over the row
        new FuseSiluMul(),           // SwiGLU gate in one elementwise kernel
        new FuseResidualIntoLinear(), // remaining residual adds ride the GEMM epilogue
        new EliminateDeadNodes(),    // drop what the fusions made unused
        new AssignStreams(),         // host traffic on the fetch stream, events on cross-stream edges
    ];

    public static CompilationResult Compile(ModelSpec spec) => Compile(spec, KernelCatalog.All, KernelCatalog.ScratchBuffers);

    public static CompilationResult Compile(ModelSpec spec, IReadOnlyList<KernelTemplate> catalog, IReadOnlyDictionary<string, string> scratch)
    {
        var context = new PassContext(spec.ShadowKV);
        var snapshots = new List<PassSnapshot> { new("build", GraphBuilder.Build(spec)) };
        foreach (IPass pass in FrontEnd)
        {
            snapshots.Add(new PassSnapshot(pass.Name, pass.Run(snapshots[snapshots.Count - 1].Graph, context)));
        }

        Graph model = snapshots[snapshots.Count - 1].Graph;
        CheckAttention(model, context);
        if (context.Diagnostics.Count > 0)
        {
            return new CompilationResult(null, [], context.Diagnostics);
        }

        var phases = new List<PhaseCompilation>();
        var variants = spec.ShadowKV is null ? new[] { AttentionVariant.Full } : new[] { AttentionVariant.Full, AttentionVariant.ShadowKV };
        foreach (AttentionVariant variant in variants)
        {
            var (prefill, decode) = SplitPrefillDecode.Split(model, variant);
            var graphs = new[] { prefill, decode }.Select(g => RunPhase(g, snapshots, context)).ToList();
            IReadOnlyList<CacheEntry> caches = CacheLayout(graphs[1].Last().Graph);
            foreach (var phaseSnapshots in graphs)
            {
                Graph final = phaseSnapshots.Last().Graph;
                CheckLowered(final, context);
                MemoryPlan memory = PlanMemory.Run(final, caches);
                PhasePlan plan = PlanLowering.Lower(final, memory, catalog, scratch);
                phases.Add(new PhaseCompilation(phaseSnapshots, memory, plan, CudaEmitter.Emit(final, plan, catalog)));
            }
        }

        if (context.Diagnostics.Count > 0)
        {
            return new CompilationResult(null, phases, context.Diagnostics.Distinct().ToArray());
        }

        var compiled = new CompiledModel(
            spec.ClassName,
            spec.Architectures.ToArray(),
            spec.ShadowKV is { } s ? new ShadowKVSettings(s.Rank, s.ChunkSize, s.BudgetTokens, s.OutlierChunks, s.LocalChunks, s.Values) : null,
            Weights(model),
            phases.Select(p => p.Plan).ToArray(),
            phases.Select(p => new CudaSource(p.Plan.Name, p.Cuda))
                .Append(new CudaSource(SamplingSource, CudaEmitter.EmitSampling(spec.ClassName, catalog.Where(t => t.Op is KernelCatalog.ArgmaxOp or KernelCatalog.SampleTopPOp).ToArray())))
                .ToArray(),
            snapshots.Select(snap => new GraphDump("model", snap.Pass, IrPrinter.Print(snap.Graph)))
                .Concat(phases.SelectMany(p => p.Snapshots.Select(snap => new GraphDump(p.Plan.Name, snap.Pass, IrPrinter.Print(snap.Graph))))).ToArray());
        return new CompilationResult(compiled, phases, context.Diagnostics);
    }

    private static List<PassSnapshot> RunPhase(Graph graph, IReadOnlyList<PassSnapshot> front, PassContext context)
    {
        var snapshots = new List<PassSnapshot> { new("split-prefill-decode", graph) };
        foreach (IPass pass in PhasePasses(graph.Phase!.Value, graph.Variant))
        {
            snapshots.Add(new PassSnapshot(pass.Name, pass.Run(snapshots[snapshots.Count - 1].Graph, context)));
        }

        return snapshots;
    }

    // Decode is the steady state: every cache it touches persists across steps (what prefill wrote, the generated
    // region, the working slots). A cache only prefill uses (ShadowKV's exact prompt KV) is scratch for that phase.
    // In-place outputs (slot_chunk_next over slot_chunk) are the same buffer. Ordinal order: one layout per variant.
    private static IReadOnlyList<CacheEntry> CacheLayout(Graph decode)
    {
        var entries = new SortedDictionary<string, CacheEntry>(System.StringComparer.Ordinal);
        foreach (Node node in decode.Nodes)
        {
            for (int i = 0; i < node.Results.Count; i++)
            {
                bool isCache = node.Op == CacheRoles.CacheOp || CacheRoles.IsCacheOutput(node.Op, i);
                if (isCache && CacheRoles.InPlaceInput(node, i) < 0)
                {
                    Value value = node.Results[i];
                    bool host = node.Attribute("memory") == "host" || CacheRoles.IsHostOutput(node.Op, i);
                    entries[value.Name] = new CacheEntry(value.Name, value.Type!, host);
                }
            }
        }

        return entries.Values.ToArray();
    }

    private static IReadOnlyList<WeightBinding> Weights(Graph model) =>
        model.Nodes.Where(n => n.Op == IrOps.Weight)
            .Select(n => new WeightBinding(n.Result, n.Attribute("checkpoint")!.Trim('"'), n.Type!.Shape.ToArray(), n.Scope == NodeScope.Layer))
            .ToArray();

    private static void CheckAttention(Graph model, PassContext context)
    {
        var attention = model.Nodes.Where(n => n.Op == IrOps.Attention).ToList();
        if (attention.Count != 1)
        {
            SourceOrigin where = attention.Count > 1 ? attention[1].Origin : model.Nodes.Last(n => n.Scope == NodeScope.Layer).Origin;
            context.Report("SKV0009", $"A [Layer] method must call Ops.Attention exactly once (found {attention.Count}); the KV cache and the ShadowKV rewrites attach to that call.", where);
        }
    }

    private static void CheckLowered(Graph graph, PassContext context)
    {
        foreach (Node node in graph.Nodes.Where(n => AssignStreams.IsStep(n) && !OpContracts.All.ContainsKey(n.Op)))
        {
            context.Report("SKV0011", $"'{node.Op}' of %{string.Join(", %", node.Inputs)} cannot be lowered to a kernel: elementwise '+', '*' and Silu are supported as a residual add into a norm or projection and as Silu(gate) * up.", node.Origin);
        }
    }
}
