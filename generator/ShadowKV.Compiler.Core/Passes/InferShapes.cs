using System.Collections.Generic;
using System.Linq;
using ShadowKV.Compiler.Ir;
using ShadowKV.Compiler.Plans;

namespace ShadowKV.Compiler.Passes;

/// <summary>
/// Gives every front-end node its symbolic shape and storage type, and reports shape mismatches it can prove from
/// the weights' declared shapes (SKV0007). Storage types follow the GPU policy: the residual stream and GEMM outputs
/// are f32, anything that feeds a bf16 GEMM or the caches is bf16.
/// </summary>
public sealed class InferShapes : IPass
{
    public string Name => "infer-shapes";

    public Graph Run(Graph graph, PassContext context)
    {
        var types = new Dictionary<string, TensorType?>();
        var nodes = new List<Node>();
        foreach (Node node in graph.Nodes)
        {
            TensorType? Input(int i) => i < node.Inputs.Count && types.TryGetValue(node.Inputs[i], out var t) ? t : null;
            TensorType? inferred = node.Type ?? Infer(node, Input, context);
            var typed = node with { Results = node.Results.Select((r, i) => i == 0 ? r with { Type = inferred } : r).ToArray() };
            foreach (Value value in typed.Results)
            {
                types[value.Name] = value.Type;
            }

            nodes.Add(typed);
        }

        return graph.WithNodes(nodes);
    }

    private static TensorType? Infer(Node node, System.Func<int, TensorType?> input, PassContext context)
    {
        TensorType? a = input(0), b = input(1);
        if (a is null)
        {
            return null; // an earlier error; reported there
        }

        void Mismatch(string message) => context.Report("SKV0007", message, node.Origin);

        switch (node.Op)
        {
            case OpContracts.Embedding:
                return b is null ? null : TensorType.Of(DataType.F32, a.Shape[0], b.Last);
            case OpContracts.RmsNorm:
                if (b is not null && (b.Shape.Count != 1 || b.Shape[0] != a.Last))
                {
                    Mismatch($"RmsNorm weight has shape {Shape(b)} but the input's last dimension is '{a.Last}'; pass a [{a.Last}] norm weight.");
                }

                return a.WithType(DataType.BF16);
            case OpContracts.Linear:
                if (b is null)
                {
                    return null;
                }

                if (b.Shape.Count != 2 || b.Shape[1] != a.Last)
                {
                    Mismatch($"Linear weight has shape {Shape(b)} ([out, in]) but the input's last dimension is '{a.Last}'; its 'in' must match.");
                    return null;
                }

                TensorType? bias = input(2);
                if (bias is not null && (bias.Shape.Count != 1 || bias.Shape[0] != b.Shape[0]))
                {
                    Mismatch($"Linear bias has shape {Shape(bias)} but the weight's output dimension is '{b.Shape[0]}'.");
                }

                return a.WithLast(b.Shape[0]).WithType(DataType.F32);
            case IrOps.Add:
            case IrOps.Mul:
                if (b is not null && !a.Shape.Equals(b.Shape))
                {
                    Mismatch($"'{(node.Op == IrOps.Add ? "+" : "*")}' needs operands of the same shape, got {Shape(a)} and {Shape(b)}.");
                    return null;
                }

                return a.WithType(DataType.F32);
            case IrOps.Silu:
                return a.WithType(DataType.F32);
            case IrOps.Attention:
                TensorType? v = input(2);
                CheckWidth(a, "Hq*d", "q", Mismatch);
                if (b is not null)
                {
                    CheckWidth(b, "Hkv*d", "k", Mismatch);
                }

                if (v is not null)
                {
                    CheckWidth(v, "Hkv*d", "v", Mismatch);
                }

                return a.WithType(DataType.BF16);
            case OpContracts.GatherRows:
                return b is null ? null : new TensorType(new[] { b.Shape[0] }.Concat(a.Shape.Skip(1)).ToArray(), a.Type);
            default:
                context.Report("SKV0008", $"The compiler has no shape rule for op '{node.Op}'.", node.Origin);
                return null;
        }
    }

    private static void CheckWidth(TensorType type, string expected, string what, System.Action<string> mismatch)
    {
        if (type.Last != Dims.Canonical(expected))
        {
            mismatch($"Attention {what} has width '{type.Last}' but must be '{Dims.Canonical(expected)}' (heads × head_dim); project it with the matching weight.");
        }
    }

    private static string Shape(TensorType type) => "[" + string.Join(", ", type.Shape) + "]";
}
