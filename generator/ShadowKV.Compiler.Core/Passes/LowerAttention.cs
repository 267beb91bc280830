using System.Collections.Generic;
using System.Linq;
using ShadowKV.Compiler.Ir;
using ShadowKV.Compiler.Plans;

namespace ShadowKV.Compiler.Passes;

/// <summary>
/// Full attention: <c>attention(q, k, v)</c> becomes RoPE of q and k, the append of k and v to the KV cache, and
/// causal flash attention (prefill) or one-query decode attention over the cache (decode). The RoPE is fused into
/// the append later (FuseRopeIntoKvAppend).
/// </summary>
public sealed class LowerAttention : IPass
{
    public string Name => "lower-attention";

    public Graph Run(Graph graph, PassContext context) => AttentionRewrite.Replace(graph, (node, make) =>
    {
        bool decode = graph.Phase == PhaseKind.Decode;
        Node attend = decode
            ? make.Make(OpContracts.DecodeAttention, ["q.rope", "k_cache", "v_cache", "token_seq", "context_len"], (node.Result, node.Type!))
            : make.Make(OpContracts.FlashAttention, ["q.rope", "k_cache", "v_cache", "positions", "token_seq"], (node.Result, node.Type!));
        return AttentionShapes.RopeAndAppend(make, node, decode ? "B" : "T").Append(attend);
    });
}

/// <summary>Types and the RoPE + append nodes shared by both attention variants.</summary>
internal static class AttentionShapes
{
    public static TensorType KvCache { get; } = TensorType.Of(DataType.BF16, "B", "Hkv", "S", "d");

    public static IEnumerable<Node> RopeAndAppend(NodeBuilder make, Node attention, string tokens)
    {
        string q = attention.Inputs[0], k = attention.Inputs[1], v = attention.Inputs[2];
        yield return make.Make(IrOps.Rope, [q, "positions", "inv_freq"], ("q.rope", TensorType.Of(DataType.BF16, tokens, "Hq*d")));
        yield return make.Make(IrOps.Rope, [k, "positions", "inv_freq"], ("k.rope", TensorType.Of(DataType.BF16, tokens, "Hkv*d")));
        yield return make.Make(IrOps.KvAppend, ["k.rope", v, "positions", "token_seq"], ("k_cache", KvCache), ("v_cache", KvCache));
    }
}
