using System.Collections.Generic;
using ShadowKV.Compiler.Ir;
using ShadowKV.Compiler.Plans;
using static ShadowKV.Compiler.Passes.ShadowKV.ShadowKVShapes;

namespace ShadowKV.Compiler.Passes.ShadowKV;

/// <summary>
/// The selection pipeline shared by decode and the prefill's warm start: landmark scores (GQA group max) → top-k
/// chunks → diff against the working slots → rebuild the missed keys with RoPE ∥ fetch the missed values.
/// </summary>
internal static class SelectChunks
{
    public static IEnumerable<Node> Nodes(NodeBuilder make, string query)
    {
        yield return make.Make(OpContracts.LandmarkScores, [query, "landmarks", "landmark_count"], ("scores", Scores));
        yield return make.Make(OpContracts.TopKChunks, ["scores", "landmark_ids", "landmark_count"], [("budget_chunks", "k")], ("selected", Slots));
        yield return make.Make(OpContracts.SelectionDiff, ["selected", "slot_chunk"],
            ("slot_chunk_next", Slots), ("misses", Slots), ("miss_count", PerHeadCount));
        yield return make.Make(OpContracts.RebuildKeysRope, ["misses", "miss_count", "slot_chunk_next", "lowrank", "basis", "inv_freq"],
            [("chunk", "c")], ("work_k", Working));
        yield return make.Make(OpContracts.FetchValues, ["misses", "miss_count", "slot_chunk_next", "value_store"],
            [("chunk", "c")], ("work_v", Working));
    }
}
