using System.Linq;
using ShadowKV.Compiler.Ir;
using ShadowKV.Compiler.Plans;

namespace ShadowKV.Compiler.Passes;

/// <summary>
/// RoPE of q and k fuses into the cache append: one kernel reads the projected q/k/v once, rotates q and k and
/// writes q_rot and the cache (full cache, or ShadowKV's generated-token region).
/// </summary>
public sealed class FuseRopeIntoKvAppend : IPass
{
    private static readonly RewriteRule[] Rules =
    [
        new("rope-into-kv-append", (node, view) => Fuse(node, view, IrOps.KvAppend, OpContracts.RopeKvAppend)),
        new("rope-into-generated-append", (node, view) => Fuse(node, view, IrOps.KvAppendGenerated, OpContracts.RopeAppendGenerated)),
        new("rope-absorbed", (node, view) =>
            node.Op == IrOps.Rope && view.Graph.Nodes.Any(n => n.Op is IrOps.KvAppend or IrOps.KvAppendGenerated && n.Scope == node.Scope)
                ? []
                : null),
    ];

    public string Name => "fuse-rope-into-kv-append";

    public Graph Run(Graph graph, PassContext context) => RuleRewriter.Apply(graph, Rules);

    // The append's k input is rope(k); the q rotation is the other rope in the same layer reading the same positions.
    private static Node[]? Fuse(Node append, GraphView view, string appendOp, string fusedOp)
    {
        if (append.Op != appendOp || view.Producer(append.Inputs[0]) is not { Op: IrOps.Rope } keyRope)
        {
            return null;
        }

        Node? queryRope = null;
        foreach (Node candidate in view.Graph.Nodes)
        {
            if (candidate.Op == IrOps.Rope && !ReferenceEquals(candidate, keyRope) && candidate.Scope == append.Scope)
            {
                queryRope = candidate;
            }
        }

        if (queryRope is null)
        {
            return null;
        }

        string[] inputs = appendOp == IrOps.KvAppend
            ? [queryRope.Inputs[0], keyRope.Inputs[0], append.Inputs[1], "positions", "token_seq", "inv_freq"]
            : [queryRope.Inputs[0], keyRope.Inputs[0], append.Inputs[1], "positions", "token_seq", "inv_freq", "prompt_len"];
        return [append with { Op = fusedOp, Inputs = inputs, Results = new[] { queryRope.Results[0] }.Concat(append.Results).ToArray() }];
    }
}
