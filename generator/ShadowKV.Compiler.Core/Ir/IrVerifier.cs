using System.Collections.Generic;
using System.Linq;
using ShadowKV.Compiler.Plans;

namespace ShadowKV.Compiler.Ir;

/// <summary>
/// Structural checks run after every pass in tests: each value defined once and before use, layer carry values
/// defined, prologue/epilogue not reading layer-local values, and (when asked) every node typed and lowered ops
/// matching their contract's arity.
/// </summary>
public static class IrVerifier
{
    public static IReadOnlyList<string> Verify(Graph graph, bool requireTypes)
    {
        var problems = new List<string>();
        var defined = new Dictionary<string, NodeScope>();
        foreach (Node node in graph.Nodes)
        {
            foreach (string input in node.Inputs.Where(i => i.Length > 0))
            {
                if (!defined.TryGetValue(input, out NodeScope scope))
                {
                    problems.Add($"'{node.Op}' -> %{node.Result} reads %{input} before it is defined");
                }
                else if (scope == NodeScope.Layer && node.Scope != NodeScope.Layer && input != graph.LayerOutput)
                {
                    problems.Add($"{node.Scope} node %{node.Result} reads layer-local %{input}");
                }
            }

            foreach (Value value in node.Results)
            {
                if (defined.ContainsKey(value.Name))
                {
                    problems.Add($"%{value.Name} is defined twice");
                }

                defined[value.Name] = node.Scope;
                if (requireTypes && value.Type is null)
                {
                    problems.Add($"%{value.Name} has no type");
                }
            }

            if (OpContracts.All.TryGetValue(node.Op, out OpContract? contract))
            {
                if (node.Inputs.Count != contract.Inputs.Count || node.Results.Count != contract.Outputs.Count)
                {
                    problems.Add($"'{node.Op}' -> %{node.Result} has {node.Inputs.Count} inputs/{node.Results.Count} results; its contract has {contract.Inputs.Count}/{contract.Outputs.Count}");
                }
            }
        }

        foreach (string carried in new[] { graph.LayerInput, graph.LayerOutput }.Concat(graph.Outputs))
        {
            if (!defined.ContainsKey(carried))
            {
                problems.Add($"%{carried} is never defined");
            }
        }

        return problems;
    }
}
