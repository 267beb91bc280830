using System;
using System.Collections.Generic;
using ShadowKV.Compiler.Ir;

namespace ShadowKV.Compiler.Passes;

/// <summary>
/// The shared shape of the attention rewrites (full, ShadowKV prefill, ShadowKV decode): every attention node is
/// replaced by the nodes a rewrite builds for it, everything else stays in place.
/// </summary>
internal static class AttentionRewrite
{
    public static Graph Replace(Graph graph, Func<Node, NodeBuilder, IEnumerable<Node>> rewrite)
    {
        var nodes = new List<Node>();
        foreach (Node node in graph.Nodes)
        {
            if (node.Op == IrOps.Attention)
            {
                nodes.AddRange(rewrite(node, new NodeBuilder(node)));
            }
            else
            {
                nodes.Add(node);
            }
        }

        return graph.WithNodes(nodes);
    }
}
