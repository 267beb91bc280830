using System.Collections.Generic;
using System.Linq;
using ShadowKV.Compiler.Collections;
using ShadowKV.Compiler.Plans;

namespace ShadowKV.Compiler.Ir;

/// <summary>
/// A model graph: nodes in execution order. Layer-scope nodes run once per layer; <see cref="LayerInput"/> is
/// rebound to <see cref="LayerOutput"/> after each layer. The epilogue reads the last layer's output.
/// </summary>
public sealed record Graph(
    string Model,
    string Name,
    PhaseKind? Phase,
    AttentionVariant Variant,
    EquatableArray<Node> Nodes,
    string LayerInput,
    string LayerOutput,
    EquatableArray<string> Outputs)
{
    public IEnumerable<Node> InScope(NodeScope scope) => Nodes.Where(n => n.Scope == scope);

    /// <summary>The node defining each value.</summary>
    public IReadOnlyDictionary<string, Node> Producers()
    {
        var map = new Dictionary<string, Node>();
        foreach (Node node in Nodes)
        {
            foreach (Value value in node.Results)
            {
                map[value.Name] = node;
            }
        }

        return map;
    }

    public IReadOnlyDictionary<string, TensorType?> Types() =>
        Nodes.SelectMany(n => n.Results).GroupBy(v => v.Name).ToDictionary(g => g.Key, g => g.Last().Type);

    /// <summary>How many nodes read each value (graph outputs and the layer carry count as readers).</summary>
    public IReadOnlyDictionary<string, int> UseCounts()
    {
        var uses = new Dictionary<string, int>();
        void Use(string name)
        {
            if (name.Length > 0)
            {
                uses[name] = uses.TryGetValue(name, out int n) ? n + 1 : 1;
            }
        }

        foreach (Node node in Nodes)
        {
            foreach (string input in node.Inputs)
            {
                Use(input);
            }
        }

        Use(LayerOutput);
        foreach (string output in Outputs)
        {
            Use(output);
        }

        return uses;
    }

    public Graph WithNodes(IEnumerable<Node> nodes) => this with { Nodes = nodes.ToArray() };
}
