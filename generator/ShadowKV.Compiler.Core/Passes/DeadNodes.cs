using System.Collections.Generic;
using System.Linq;
using ShadowKV.Compiler.Ir;

namespace ShadowKV.Compiler.Passes;

/// <summary>
/// Removes nodes whose results nobody reads. Inputs and weights stay (the engine binds them regardless), and so do
/// nodes that write a cache (their effect outlives the step: see <see cref="CacheRoles"/>).
/// </summary>
public sealed class EliminateDeadNodes : IPass
{
    public string Name => "eliminate-dead-nodes";

    public Graph Run(Graph graph, PassContext context) => DeadNodes.Remove(graph);
}

internal static class DeadNodes
{
    public static Graph Remove(Graph graph)
    {
        while (true)
        {
            IReadOnlyDictionary<string, int> uses = graph.UseCounts();
            var kept = graph.Nodes.Where(n => IsRoot(n) || n.Results.Any(r => uses.ContainsKey(r.Name))).ToList();
            if (kept.Count == graph.Nodes.Count)
            {
                return graph;
            }

            graph = graph.WithNodes(kept);
        }
    }

    private static bool IsRoot(Node node) =>
        node.Op is IrOps.Input or IrOps.Weight || CacheRoles.WritesCache(node);
}
