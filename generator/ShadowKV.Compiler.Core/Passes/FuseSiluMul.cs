using ShadowKV.Compiler.Ir;
using ShadowKV.Compiler.Plans;

namespace ShadowKV.Compiler.Passes;

/// <summary>
/// <c>silu(gate) * up</c> (SwiGLU) becomes one elementwise kernel that writes the bf16 input of the down projection.
/// Canonicalize has put the SiLU operand first.
/// </summary>
public sealed class FuseSiluMul : IPass
{
    private static readonly RewriteRule[] Rules =
    [
        new("silu-mul", (node, view) =>
            node.Op == IrOps.Mul && view.Producer(node.Inputs[0]) is { Op: IrOps.Silu } silu && view.Uses(silu.Result) == 1
                ? [node with
                {
                    Op = OpContracts.SiluMul,
                    Inputs = new[] { silu.Inputs[0], node.Inputs[1] },
                    Results = new[] { node.Results[0] with { Type = node.Type?.WithType(DataType.BF16) } },
                }]
                : null),
    ];

    public string Name => "fuse-silu-mul";

    public Graph Run(Graph graph, PassContext context) => RuleRewriter.Apply(graph, Rules);
}
