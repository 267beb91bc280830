using System.Linq;
using ShadowKV.Compiler.Ir;
using ShadowKV.Compiler.Plans;

namespace ShadowKV.Compiler.Passes;

/// <summary>
/// A residual add followed by an RMSNorm of its sum becomes one kernel: it reads both operands once, writes the sum
/// (in place over the residual stream) and the normalised bf16 row.
/// </summary>
public sealed class FuseAddRmsNorm : IPass
{
    // The fused node takes the add's place (the sum may have other readers after it); the norm disappears.
    private static readonly RewriteRule[] Rules =
    [
        new("add-rms-norm", (node, view) =>
            node.Op == IrOps.Add && FirstNormOf(node, view) is { } norm
                ? [norm with
                {
                    Op = OpContracts.AddRmsNorm,
                    Inputs = new[] { node.Inputs[0], node.Inputs[1], norm.Inputs[1] },
                    Results = new[] { node.Results[0], norm.Results[0] },
                }]
                : null),
        new("norm-absorbed", (node, view) =>
            node.Op == OpContracts.RmsNorm && view.Producer(node.Inputs[0]) is { Op: IrOps.Add } add && ReferenceEquals(FirstNormOf(add, view), node)
                ? []
                : null),
    ];

    private static Node? FirstNormOf(Node add, GraphView view) =>
        view.Graph.Nodes.FirstOrDefault(n => n.Op == OpContracts.RmsNorm && n.Inputs[0] == add.Result && n.Scope == add.Scope);

    public string Name => "fuse-add-rms-norm";

    public Graph Run(Graph graph, PassContext context) => RuleRewriter.Apply(graph, Rules);
}
