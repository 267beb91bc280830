using System.Collections.Generic;
using System.Linq;
using ShadowKV.Compiler.Frontend;
using ShadowKV.Compiler.Ir;
using ShadowKV.Compiler.Plans;
using static ShadowKV.Compiler.Passes.ShadowKV.ShadowKVShapes;

namespace ShadowKV.Compiler.Passes.ShadowKV;

/// <summary>
/// ShadowKV prefill: attention stays exact (flash attention over the prompt) and gains side outputs that replace the
/// KV cache for decoding — the rank-r factors of the pre-RoPE keys (Gram matrix → eigenbasis → projection), the
/// landmarks with outlier and local chunks kept exact, the values moved to host (or kept on the GPU), and a warm
/// selection with the last prompt query.
/// </summary>
public sealed class RewritePrefillAttention : IPass
{
    public string Name => "shadowkv-prefill";

    public Graph Run(Graph graph, PassContext context)
    {
        ShadowKVSpec settings = context.ShadowKV!;
        return AttentionRewrite.Replace(graph, (node, make) => Rewrite(node, make, settings));
    }

    private static IEnumerable<Node> Rewrite(Node node, NodeBuilder make, ShadowKVSpec settings)
    {
        var nodes = new List<Node>();
        string k = node.Inputs[1];
        nodes.AddRange(AttentionShapes.RopeAndAppend(make, node, "T"));
        nodes.Add(make.Make(OpContracts.FlashAttention, ["q.rope", "k_cache", "v_cache", "positions", "token_seq"], (node.Result, node.Type!)));
        nodes.Add(make.Make(OpContracts.KeyGram, [k, "token_seq", "prompt_len"], ("gram", Gram)));
        nodes.Add(make.Make(OpContracts.KeyEigenbasis, ["gram"], [("rank", "r")], ("basis", Basis)));
        nodes.Add(make.Make(OpContracts.KeyProjection, [k, "basis", "token_seq", "positions"], ("lowrank", LowRank)));
        nodes.Add(make.Make(OpContracts.Landmarks, ["k_cache", "v_cache", "prompt_len"],
            [("chunk", "c"), ("local_chunks", "nloc"), ("outliers", "o")], LandmarkOutputs));
        string values = settings.Values == ValuePlacement.Host ? OpContracts.OffloadValues : OpContracts.KeepValues;
        nodes.Add(make.Make(values, ["v_cache", "prompt_len"], [("chunk", "c")], ("value_store", ValueStore)));
        nodes.Add(make.Make(OpContracts.GatherRows, ["q.rope", "last_row"], ("q.last", LastQuery)));
        nodes.Add(make.Cache("slot_chunk", Slots));
        nodes.AddRange(SelectChunks.Nodes(make, "q.last"));
        return nodes;
    }
}
