using ShadowKV.Compiler.Ir;
using ShadowKV.Compiler.Plans;

namespace ShadowKV.Compiler.Passes;

/// <summary>
/// <c>x + Linear(a, W)</c> becomes a GEMM whose epilogue adds the residual (cuBLASLt beta = 1, in place over x), when
/// the projection has no other reader. Runs after FuseAddRmsNorm, which takes the adds that feed a norm.
/// </summary>
public sealed class FuseResidualIntoLinear : IPass
{
    private static readonly RewriteRule[] Rules =
    [
        new("residual-into-linear", (node, view) =>
            node.Op == IrOps.Add && view.Producer(node.Inputs[1]) is { Op: OpContracts.Linear } linear
                && linear.Inputs[3].Length == 0 && view.Uses(linear.Result) == 1
                ? [linear with
                {
                    Inputs = new[] { linear.Inputs[0], linear.Inputs[1], linear.Inputs[2], node.Inputs[0] },
                    Results = node.Results,
                }]
                : null),
        new("linear-absorbed", (node, view) =>
            node.Op == OpContracts.Linear && view.Uses(node.Result) == 1 && node.Inputs[3].Length == 0
                && System.Linq.Enumerable.Any(view.Graph.Nodes, n => n.Op == IrOps.Add && n.Inputs[1] == node.Result)
                ? []
                : null),
    ];

    public string Name => "fuse-residual-into-linear";

    public Graph Run(Graph graph, PassContext context) => RuleRewriter.Apply(graph, Rules);
}
