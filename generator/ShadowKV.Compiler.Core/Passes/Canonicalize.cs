using System.Collections.Generic;
using ShadowKV.Compiler.Ir;
using ShadowKV.Compiler.Plans;

namespace ShadowKV.Compiler.Passes;

/// <summary>
/// Puts equivalent code into one form so later patterns need one shape each: SiLU first in a product, the residual
/// stream first in a sum, and no row gather where every row is already a sequence's last (decode: T = B).
/// </summary>
public sealed class Canonicalize : IPass
{
    private static readonly RewriteRule[] Rules =
    [
        new("silu-first-in-mul", (node, view) =>
            node.Op == IrOps.Mul && !view.IsProducedBy(node.Inputs[0], IrOps.Silu) && view.IsProducedBy(node.Inputs[1], IrOps.Silu)
                ? new[] { node with { Inputs = new[] { node.Inputs[1], node.Inputs[0] } } }
                : null),
        new("residual-first-in-add", (node, view) =>
            node.Op == IrOps.Add && view.IsProducedBy(node.Inputs[0], OpContracts.Linear) && !view.IsProducedBy(node.Inputs[1], OpContracts.Linear)
                ? new[] { node with { Inputs = new[] { node.Inputs[1], node.Inputs[0] } } }
                : null),
        new("decode-gathers-nothing", (node, view) =>
            node.Op == OpContracts.GatherRows && view.Graph.Phase == PhaseKind.Decode
                ? new[] { RuleRewriter.Forward(node, node.Inputs[0]) }
                : null),
    ];

    public string Name => "canonicalize";

    public Graph Run(Graph graph, PassContext context) => RuleRewriter.Apply(graph, Rules);
}
