using System.Collections.Generic;
using System.Linq;
using ShadowKV.Compiler.Plans;

namespace ShadowKV.Compiler.Ir;

/// <summary>
/// Which op outputs outlive the step (per-layer caches, named after their role so prefill and decode share them),
/// which live in pinned host memory, and which are written in place over an input.
/// </summary>
public static class CacheRoles
{
    private static readonly Dictionary<string, string[]> CacheOutputs = new()
    {
        [OpContracts.RopeKvAppend] = ["k_cache", "v_cache"],
        [OpContracts.KeyEigenbasis] = ["basis"],
        [OpContracts.KeyProjection] = ["lowrank"],
        [OpContracts.Landmarks] = ["landmarks", "landmark_ids", "landmark_count", "outlier_k", "outlier_v", "local_k", "local_v", "local_count"],
        [OpContracts.OffloadValues] = ["value_store"],
        [OpContracts.KeepValues] = ["value_store"],
        [OpContracts.RopeAppendGenerated] = ["gen_k", "gen_v"],
        [OpContracts.SelectionDiff] = ["slot_chunk_next"],
        [OpContracts.RebuildKeysRope] = ["work_k"],
        [OpContracts.FetchValues] = ["work_v"],
    };

    private static readonly Dictionary<(string Op, string Output), string> InPlaceOutputs = new()
    {
        [(OpContracts.SelectionDiff, "slot_chunk_next")] = "slot_chunk",
        [(OpContracts.AddRmsNorm, "sum")] = "x",
        [(OpContracts.Linear, "y")] = "residual",
    };

    /// <summary>Op of the nodes that stand for cache state that exists before the step (read, never computed).</summary>
    public const string CacheOp = "cache";

    public static bool WritesCache(Node node) => node.Op == CacheOp || CacheOutputs.ContainsKey(node.Op);

    public static bool IsCacheOutput(string op, int index) =>
        CacheOutputs.TryGetValue(op, out string[]? roles) && OpContracts.All.TryGetValue(op, out OpContract? c) && roles.Contains(c.Outputs[index]);

    public static bool IsHostOutput(string op, int index) => op == OpContracts.OffloadValues && index == 0;

    /// <summary>The input role an output overwrites, if any (and the input is present).</summary>
    public static int InPlaceInput(Node node, int outputIndex)
    {
        if (!OpContracts.All.TryGetValue(node.Op, out OpContract? contract) ||
            !InPlaceOutputs.TryGetValue((node.Op, contract.Outputs[outputIndex]), out string? role))
        {
            return -1;
        }

        int input = contract.InputIndex(role);
        return input >= 0 && node.Inputs[input].Length > 0 ? input : -1;
    }
}
