using System.Collections.Generic;
using ShadowKV.Compiler.Frontend;
using ShadowKV.Compiler.Ir;
using ShadowKV.Compiler.Plans;
using static ShadowKV.Compiler.Passes.ShadowKV.ShadowKVShapes;

namespace ShadowKV.Compiler.Passes.ShadowKV;

/// <summary>
/// ShadowKV decode: the new token's k/v go exact into the generated region; the query scores the landmarks, the
/// top-k chunks are selected, missed keys are rebuilt from the low-rank factors (+RoPE) while missed values are
/// fetched from host memory on the fetch stream, and attention runs over [local | outliers | selected | generated].
/// </summary>
public sealed class RewriteDecodeAttention : IPass
{
    public string Name => "shadowkv-decode";

    public Graph Run(Graph graph, PassContext context)
    {
        ShadowKVSpec settings = context.ShadowKV!;
        return AttentionRewrite.Replace(graph, (node, make) => Rewrite(node, make, settings));
    }

    private static IEnumerable<Node> Rewrite(Node node, NodeBuilder make, ShadowKVSpec settings)
    {
        var nodes = new List<Node>();
        foreach (var (name, type) in LandmarkOutputs)
        {
            nodes.Add(make.Cache(name, type));
        }

        nodes.Add(make.Cache("lowrank", LowRank));
        nodes.Add(make.Cache("basis", Basis));
        Node valueStore = make.Cache("value_store", ValueStore);
        nodes.Add(settings.Values == ValuePlacement.Host ? valueStore.WithAttribute("memory", "host") : valueStore);
        nodes.Add(make.Cache("slot_chunk", Slots));

        string q = node.Inputs[0], k = node.Inputs[1], v = node.Inputs[2];
        nodes.Add(make.Make(IrOps.Rope, [q, "positions", "inv_freq"], ("q.rope", TensorType.Of(DataType.BF16, "B", "Hq*d"))));
        nodes.Add(make.Make(IrOps.Rope, [k, "positions", "inv_freq"], ("k.rope", TensorType.Of(DataType.BF16, "B", "Hkv*d"))));
        nodes.Add(make.Make(IrOps.KvAppendGenerated, ["k.rope", v, "positions", "token_seq", "prompt_len"], ("gen_k", Generated), ("gen_v", Generated)));
        nodes.AddRange(SelectChunks.Nodes(make, "q.rope"));
        nodes.Add(make.Make(OpContracts.SparseAttention,
            ["q.rope", "local_k", "local_v", "local_count", "outlier_k", "outlier_v", "work_k", "work_v", "slot_chunk_next", "gen_k", "gen_v", "context_len", "prompt_len"],
            (node.Result, node.Type!)));
        return nodes;
    }
}
