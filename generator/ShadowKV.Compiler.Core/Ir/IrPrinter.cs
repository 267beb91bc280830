using System.Linq;
using System.Text;

namespace ShadowKV.Compiler.Ir;

/// <summary>
/// Stable text form of a graph, used by pass tests (before/expected) and by the generated <c>Model.Graph</c> dumps.
/// One node a line: <c>%a, %b = op(%x, _, %y) {key=value} : [T, hidden] f32  // Llama.cs:12</c>.
/// </summary>
public static class IrPrinter
{
    public static string Print(Graph graph)
    {
        var text = new StringBuilder();
        text.Append("graph ").Append(graph.Model).Append('.').Append(graph.Name).Append('\n');
        foreach (NodeScope scope in new[] { NodeScope.Prologue, NodeScope.Layer, NodeScope.Epilogue })
        {
            text.Append(scope switch
            {
                NodeScope.Prologue => "prologue:\n",
                NodeScope.Layer => $"layer (%{graph.LayerInput} -> %{graph.LayerOutput}):\n",
                _ => "epilogue:\n",
            });
            foreach (Node node in graph.InScope(scope))
            {
                text.Append("  ").Append(PrintNode(node)).Append('\n');
            }
        }

        text.Append("outputs: ").Append(string.Join(", ", graph.Outputs.Select(o => "%" + o))).Append('\n');
        return text.ToString();
    }

    public static string PrintNode(Node node)
    {
        var line = new StringBuilder();
        line.Append(string.Join(", ", node.Results.Select(r => "%" + r.Name))).Append(" = ").Append(node.Op);
        if (node.Inputs.Count > 0)
        {
            line.Append('(').Append(string.Join(", ", node.Inputs.Select(i => i.Length == 0 ? "_" : "%" + i))).Append(')');
        }

        if (node.Attributes.Count > 0)
        {
            line.Append(" {").Append(string.Join(", ", node.Attributes.Select(a => $"{a.Key}={a.Value}"))).Append('}');
        }

        if (node.Results.Any(r => r.Type is not null))
        {
            line.Append(" : ").Append(string.Join(", ", node.Results.Select(r => r.Type?.ToString() ?? "?")));
        }

        if (node.Origin.Line > 0)
        {
            line.Append("  // ").Append(node.Origin);
        }

        return line.ToString();
    }
}
