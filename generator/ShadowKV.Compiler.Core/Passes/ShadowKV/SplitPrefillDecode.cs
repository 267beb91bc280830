using System.Linq;
using ShadowKV.Compiler.Ir;
using ShadowKV.Compiler.Plans;

namespace ShadowKV.Compiler.Passes.ShadowKV;

/// <summary>
/// Clones the model graph into a prefill graph (T prompt tokens across the batch) and a decode graph (one token per
/// sequence, so T = B), for one attention variant. The attention rewrites then specialise each clone.
/// </summary>
public static class SplitPrefillDecode
{
    public static (Graph Prefill, Graph Decode) Split(Graph model, AttentionVariant variant)
    {
        string suffix = variant == AttentionVariant.Full ? "full" : "shadowkv";
        Graph prefill = model with { Name = $"prefill.{suffix}", Phase = PhaseKind.Prefill, Variant = variant };
        Graph decode = model with
        {
            Name = $"decode.{suffix}",
            Phase = PhaseKind.Decode,
            Variant = variant,
            Nodes = model.Nodes.Select(TokensAreSequences).ToArray(),
        };
        return (prefill, decode);
    }

    // In decode every sequence contributes exactly one token, so the token dim T becomes the batch dim B.
    private static Node TokensAreSequences(Node node) => node with
    {
        Results = node.Results.Select(r => r.Type is null ? r : r with
        {
            Type = r.Type with { Shape = r.Type.Shape.Select(d => d == "T" ? "B" : d).ToArray() },
        }).ToArray(),
    };
}
