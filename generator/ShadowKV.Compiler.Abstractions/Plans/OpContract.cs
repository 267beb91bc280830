using System.Collections.Generic;
using System.Linq;

namespace ShadowKV.Compiler.Plans;

/// <summary>
/// What one plan op computes: its input and output roles in order (a step's Inputs/Outputs follow them), the
/// attributes it reads and a one-line definition. The CPU backend, the GPU kernels and the lowering all follow
/// this table; it is the meaning of the plan.
/// </summary>
public sealed record OpContract(string Op, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs, IReadOnlyList<string> Attributes, string Definition)
{
    /// <summary>Index of an input role, or -1.</summary>
    public int InputIndex(string role) => Inputs.ToList().IndexOf(role);

    /// <summary>Index of an output role, or -1.</summary>
    public int OutputIndex(string role) => Outputs.ToList().IndexOf(role);
}

/// <summary>
/// The op vocabulary. Layouts (shared by CPU and GPU): activations token-major [T, width], T = all tokens of the
/// step across a ragged batch, head h of q/k/v in columns h·d…h·d+d−1. Per-step metadata (I32, written by the
/// engine): tokens [T], positions [T], token_seq [T] (batch slot of each token), last_row [B] (row of each
/// sequence's last token), context_len [B] (cache length after this step), prompt_len [B]. Caches are per layer:
/// k_cache/v_cache [B, Hkv, S, d] post-RoPE; RoPE is Hugging Face's rotate-half with inv_freq [d/2]. Attention
/// scale 1/√d, query head h reads KV head h/G. ShadowKV layouts are in SHADOWKV.md and beside each op below.
/// </summary>
public static class OpContracts
{
    public const string Embedding = "embedding";
    public const string RmsNorm = "rms_norm";
    public const string AddRmsNorm = "add_rms_norm";
    public const string GatherRows = "gather_rows";
    public const string Linear = "linear";
    public const string SiluMul = "silu_mul";
    public const string RopeKvAppend = "rope_kv_append";
    public const string FlashAttention = "flash_attention";
    public const string DecodeAttention = "decode_attention";
    public const string KeyGram = "key_gram";
    public const string KeyEigenbasis = "key_eigenbasis";
    public const string KeyProjection = "key_projection";
    public const string Landmarks = "landmarks";
    public const string OffloadValues = "offload_values";
    public const string KeepValues = "keep_values";
    public const string RopeAppendGenerated = "rope_append_generated";
    public const string LandmarkScores = "landmark_scores";
    public const string TopKChunks = "top_k_chunks";
    public const string SelectionDiff = "selection_diff";
    public const string RebuildKeysRope = "rebuild_keys_rope";
    public const string FetchValues = "fetch_values";
    public const string SparseAttention = "sparse_attention";

    private static readonly OpContract[] Table =
    [
        new(Embedding, ["tokens", "table"], ["x"], [],
            "x[t] = table[tokens[t]] as f32; x [T, hidden], table [vocab, hidden]."),
        new(RmsNorm, ["x", "weight"], ["y"], ["eps"],
            "y = x · rsqrt(mean(x²) + eps) · weight over the last dim; x f32, y bf16 on the GPU."),
        new(AddRmsNorm, ["x", "residual", "weight"], ["sum", "y"], ["eps"],
            "sum = x + residual (f32; may alias x); y = rms_norm(sum) — the residual add fused into the norm."),
        new(GatherRows, ["x", "rows"], ["y"], [],
            "y[b] = x[rows[b]]: each sequence's last token before the LM head; y [B, width]."),
        new(Linear, ["x", "weight", "bias", "residual"], ["y"], [],
            "y = x·weightᵀ (+ bias) (+ residual); weight [out, in]. bias/residual roles are empty strings when absent."),
        new(SiluMul, ["gate", "up"], ["y"], [],
            "y = silu(gate) · up, elementwise; y bf16 on the GPU."),
        new(RopeKvAppend, ["q", "k", "v", "positions", "token_seq", "inv_freq"], ["q_rot", "k_cache", "v_cache"], [],
            "q_rot = rope(q); k_cache[seq, h, pos] = rope(k); v_cache[seq, h, pos] = v."),
        new(FlashAttention, ["q_rot", "k_cache", "v_cache", "positions", "token_seq"], ["y"], [],
            "Causal GQA attention: token t at position p of sequence s attends k/v_cache[s, :, 0..p]; y [T, Hq·d]."),
        new(DecodeAttention, ["q_rot", "k_cache", "v_cache", "token_seq", "context_len"], ["y"], [],
            "One query per sequence over k/v_cache[s, :, 0..context_len[s]); y [B, Hq·d]."),
        new(KeyGram, ["k", "token_seq", "prompt_len"], ["gram"], [],
            "ShadowKV: gram[s] = K_sᵀ·K_s in f32 over the pre-RoPE keys of sequence s; gram [B, D, D], D = Hkv·d."),
        new(KeyEigenbasis, ["gram"], ["basis"], ["rank"],
            "ShadowKV: basis[s] = the top-r eigenvectors of gram[s] as rows, by descending eigenvalue; basis [B, r, D]."),
        new(KeyProjection, ["k", "basis", "token_seq", "positions"], ["lowrank"], [],
            "ShadowKV: lowrank[s, pos] = K[t]·basis[s]ᵀ for each prompt token t; lowrank [B, S, r] (the A factor)."),
        new(Landmarks, ["k_cache", "v_cache", "prompt_len"],
            ["landmarks", "landmark_ids", "landmark_count", "outlier_k", "outlier_v", "local_k", "local_v", "local_count"],
            ["chunk", "outliers", "local_chunks"],
            "ShadowKV: per KV head n_c = ⌊S/c⌋ − nloc chunks; landmark = chunk mean of post-RoPE keys; the o chunks with the " +
            "smallest min-cosine are outliers, copied exact to outlier_k/v [B, Hkv, o·c, d]; the rest stay as landmarks " +
            "[B, Hkv, S/c, d] with their chunk ids (ascending) and count [B, Hkv]; the last S − c·n_c tokens go to local_k/v " +
            "[B, Hkv, (nloc+1)·c, d] with local_count [B]."),
        new(OffloadValues, ["v_cache", "prompt_len"], ["value_store"], ["chunk"],
            "ShadowKV: value_store[s, h, j] = v_cache[s, h, j·c … j·c+c−1] chunk-major [B, Hkv, S/c, c·d], in pinned host memory."),
        new(KeepValues, ["v_cache", "prompt_len"], ["value_store"], ["chunk"],
            "ShadowKV: as offload_values, with value_store in GPU memory."),
        new(RopeAppendGenerated, ["q", "k", "v", "positions", "token_seq", "inv_freq", "prompt_len"], ["q_rot", "gen_k", "gen_v"], [],
            "ShadowKV decode: as rope_kv_append, into the generated-token region gen_k/v [B, Hkv, max_new, d] at pos − prompt_len."),
        new(LandmarkScores, ["q_rot", "landmarks", "landmark_count"], ["scores"], [],
            "ShadowKV: scores[s, h, j] = max over the G query heads of softmax_j(q·landmark_j / √d); scores [B, Hkv, S/c]."),
        new(TopKChunks, ["scores", "landmark_ids", "landmark_count"], ["selected"], ["budget_chunks"],
            "ShadowKV: the k highest-scoring chunk ids per KV head (ties → lower id), ascending; selected [B, Hkv, k] (−1 pads)."),
        new(SelectionDiff, ["selected", "slot_chunk"], ["slot_chunk_next", "misses", "miss_count"], [],
            "ShadowKV: keep chunks already in a working slot (hits), assign misses to freed slots; misses [B, Hkv, k] lists slots to fill."),
        new(RebuildKeysRope, ["misses", "miss_count", "slot_chunk_next", "lowrank", "basis", "inv_freq"], ["work_k"], ["chunk"],
            "ShadowKV: for each missed slot, rows t of its chunk: key = rope(lowrank[s, t]·basis[s][:, h·d…], t); work_k [B, Hkv, k·c, d]."),
        new(FetchValues, ["misses", "miss_count", "slot_chunk_next", "value_store"], ["work_v"], ["chunk"],
            "ShadowKV: copy each missed slot's chunk of values from value_store into work_v [B, Hkv, k·c, d] (fetch stream)."),
        new(SparseAttention,
            ["q_rot", "local_k", "local_v", "local_count", "outlier_k", "outlier_v", "work_k", "work_v", "slot_chunk_next", "gen_k", "gen_v", "context_len", "prompt_len"],
            ["y"], [],
            "ShadowKV: exact attention of each query over [local | outliers | selected working slots | generated tokens]; y [B, Hq·d]."),
    ];

    /// <summary>Every op by name.</summary>
    public static IReadOnlyDictionary<string, OpContract> All { get; } = Table.ToDictionary(c => c.Op);
}
