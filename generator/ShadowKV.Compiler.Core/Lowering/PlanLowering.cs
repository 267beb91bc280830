using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using ShadowKV.Compiler.Ir;
using ShadowKV.Compiler.Passes;
using ShadowKV.Compiler.Plans;

namespace ShadowKV.Compiler.Lowering;

/// <summary>
/// Turns a phase's final graph and memory plan into plan steps. Every node becomes one or more steps: a cuBLASLt GEMM
/// (linear), a cuSOLVER call (the eigensolver) and/or the kernels the catalog lists for its op, in catalog order. A
/// node lowered to several steps keeps one Node name; the CPU backend computes the op once, at its first step.
/// </summary>
public static class PlanLowering
{
    public static PhasePlan Lower(Graph graph, MemoryPlan memory, IReadOnlyList<KernelTemplate> catalog, IReadOnlyDictionary<string, string> scratch)
    {
        string phase = graph.Phase == PhaseKind.Decode ? "decode" : "prefill";
        IReadOnlyDictionary<string, TensorType?> types = graph.Types();
        var steps = new List<PlanStep>();
        var usedScratch = new SortedSet<string>(System.StringComparer.Ordinal);
        foreach (Node node in graph.Nodes.Where(AssignStreams.IsStep))
        {
            var kinds = new List<(StepKind Kind, KernelLaunch? Launch, GemmDescriptor? Gemm)>();
            if (node.Op == OpContracts.Linear)
            {
                kinds.Add((StepKind.Gemm, null, Gemm(node, types[node.Inputs[0]]!, memory)));
            }
            else
            {
                if (node.Op == OpContracts.KeyEigenbasis)
                {
                    kinds.Add((StepKind.Solver, null, null));
                }

                foreach (KernelTemplate template in catalog.Where(t => t.Op == node.Op))
                {
                    kinds.Add((StepKind.Kernel, Launch(template, graph.Model, phase, StepLocalSymbols(node, types)), null));
                    foreach (KernelParameter parameter in template.Parameters.Where(p => p.Binding.StartsWith("scratch:")))
                    {
                        usedScratch.Add(parameter.Binding.Substring("scratch:".Length));
                    }
                }

                if (kinds.Count == 0)
                {
                    kinds.Add((StepKind.Kernel, null, null)); // no GPU kernel yet: the GPU executor refuses it by name
                }
            }

            for (int i = 0; i < kinds.Count; i++)
            {
                steps.Add(new PlanStep(
                    Node: node.Result,
                    Op: node.Op,
                    Scope: (StepScope)(int)node.Scope,
                    Kind: kinds[i].Kind,
                    Inputs: node.Inputs.Select(v => Buffer(v, memory)).ToArray(),
                    Outputs: node.Results.Select(r => Buffer(r.Name, memory)).ToArray(),
                    Attributes: node.Attributes.Where(a => a.Key is not ("stream" or "wait" or "record"))
                        .ToDictionary(a => a.Key, a => a.Value),
                    Stream: node.Attribute("stream") ?? AssignStreams.Compute,
                    WaitEvents: i == 0 ? (node.Attribute("wait")?.Split('|') ?? new string[0]) : new string[0],
                    RecordEvent: i == kinds.Count - 1 ? node.Attribute("record") : null,
                    Launch: kinds[i].Launch,
                    Gemm: kinds[i].Gemm,
                    Origin: node.Origin.ToString()));
            }
        }

        var buffers = memory.Buffers.ToList();
        string arena = memory.ArenaBytes;
        foreach (string name in usedScratch)
        {
            buffers.Add(new BufferSpec("scratch." + name, new[] { scratch[name] }, DataType.I32, BufferLifetime.Pass, arena));
            arena = $"{arena} + alignup({scratch[name]}, {PlanMemory.Alignment})";
        }

        string[] streams = steps.Any(s => s.Stream == AssignStreams.Fetch) ? [AssignStreams.Compute, AssignStreams.Fetch] : [AssignStreams.Compute];
        return new PhasePlan(graph.Name, graph.Phase ?? PhaseKind.Prefill, graph.Variant, graph.Name, buffers, steps, streams,
            arena, memory.CacheBytesPerLayer, memory.HostCacheBytesPerLayer);
    }

    /// <summary>The stable kernel name: model, phase, template (<c>llama_decode_rebuild_keys_rope</c>).</summary>
    public static string KernelName(string model, string phase, KernelTemplate template) =>
        $"{model.ToLowerInvariant()}_{phase}_{template.Suffix}";

    private static readonly Regex Symbol = new(@"\b(rows|row_words)\b", RegexOptions.CultureInvariant);

    private static KernelLaunch Launch(KernelTemplate template, string model, string phase, IReadOnlyDictionary<string, string> local)
    {
        // in:/out:/scratch: bindings name roles and buffers (a role may be called "rows"); only expressions get symbols.
        string Bind(string expression) => expression.StartsWith("in:", System.StringComparison.Ordinal) || expression.StartsWith("out:", System.StringComparison.Ordinal)
            || expression.StartsWith("scratch:", System.StringComparison.Ordinal)
            ? expression
            : Symbol.Replace(expression, m => "(" + local[m.Value] + ")");
        return new KernelLaunch(KernelName(model, phase, template), template.TemplateParameters.Select(Bind).ToArray(),
            template.Parameters.Select(p => Bind(p.Binding)).ToArray(), template.Grid.Select(Bind).ToArray(),
            new[] { template.BlockSize, 1, 1 }, Bind(template.SharedBytes));
    }

    // The catalog's step-local symbols (KernelCatalog remarks): rows of the first output, words of the first input's row.
    private static IReadOnlyDictionary<string, string> StepLocalSymbols(Node node, IReadOnlyDictionary<string, TensorType?> types)
    {
        TensorType output = node.Results[0].Type!;
        TensorType? input = node.Inputs.Count > 0 && types.TryGetValue(node.Inputs[0], out TensorType? t) ? t : null;
        string rows = string.Join("*", output.Shape.Take(output.Shape.Count - 1));
        string words = input is null ? "0" : input.Type == DataType.BF16 ? $"({input.Last})/2" : input.Last;
        return new Dictionary<string, string> { ["rows"] = rows.Length == 0 ? "1" : rows, ["row_words"] = words };
    }

    // C[M, N] = A[M, K]·W[N, K]ᵀ: M is every dim but the last (the token rows), K the input's width.
    private static GemmDescriptor Gemm(Node node, TensorType input, MemoryPlan memory)
    {
        TensorType output = node.Type!;
        string m = string.Join("*", output.Shape.Take(output.Shape.Count - 1));
        return new GemmDescriptor(m, output.Last, input.Last, Buffer(node.Inputs[0], memory), node.Inputs[1], Buffer(node.Result, memory),
            node.Inputs[2].Length > 0 ? node.Inputs[2] : null, node.Inputs[3].Length > 0 ? Buffer(node.Inputs[3], memory) : null);
    }

    private static string Buffer(string value, MemoryPlan memory) =>
        value.Length > 0 && memory.BufferOf.TryGetValue(value, out string? buffer) ? buffer : value;
}
