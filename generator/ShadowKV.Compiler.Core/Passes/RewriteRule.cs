using System;
using System.Collections.Generic;
using System.Linq;
using ShadowKV.Compiler.Collections;
using ShadowKV.Compiler.Ir;

namespace ShadowKV.Compiler.Passes;

/// <summary>
/// A local rewrite: when <see cref="Match"/> returns a replacement for a node, the node is replaced by it (one or
/// more nodes defining the same result names). Rules see the graph as it was when the pass started.
/// </summary>
public sealed record RewriteRule(string Name, Func<Node, GraphView, IReadOnlyList<Node>?> Match);

/// <summary>Read-only lookups rules need: who defines a value, how often it is read.</summary>
public sealed class GraphView
{
    private readonly IReadOnlyDictionary<string, Node> _producers;
    private readonly IReadOnlyDictionary<string, int> _uses;

    public GraphView(Graph graph)
    {
        Graph = graph;
        _producers = graph.Producers();
        _uses = graph.UseCounts();
    }

    public Graph Graph { get; }

    public Node? Producer(string value) => value.Length > 0 && _producers.TryGetValue(value, out Node? node) ? node : null;

    public int Uses(string value) => _uses.TryGetValue(value, out int n) ? n : 0;

    public bool IsProducedBy(string value, string op) => Producer(value)?.Op == op;
}

/// <summary>
/// Applies a rule table once over the graph, then drops nodes whose results nobody reads any more. A rule may
/// return <see cref="Forward"/> to say "this node's result is that value": later readers are renamed.
/// </summary>
public static class RuleRewriter
{
    private const string ForwardOp = "forward";

    public static Node Forward(Node node, string value) =>
        node with { Op = ForwardOp, Inputs = new[] { value }, Attributes = EquatableArray<Attr>.Empty };

    public static Graph Apply(Graph graph, IReadOnlyList<RewriteRule> rules)
    {
        var view = new GraphView(graph);
        var renames = new Dictionary<string, string>();
        string Resolve(string name) => renames.TryGetValue(name, out string? to) ? to : name;
        var output = new List<Node>();
        foreach (Node node in graph.Nodes)
        {
            IReadOnlyList<Node>? replacement = rules.Select(rule => rule.Match(node, view)).FirstOrDefault(r => r is not null);
            foreach (Node produced in replacement ?? new[] { node })
            {
                Node renamed = produced with { Inputs = produced.Inputs.Select(Resolve).ToArray() };
                if (renamed.Op == ForwardOp)
                {
                    renames[renamed.Result] = renamed.Inputs[0];
                }
                else
                {
                    output.Add(renamed);
                }
            }
        }

        Graph rewritten = graph.WithNodes(output) with
        {
            LayerOutput = Resolve(graph.LayerOutput),
            Outputs = graph.Outputs.Select(Resolve).ToArray(),
        };
        return DeadNodes.Remove(rewritten);
    }
}
