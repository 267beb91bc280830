using System.Collections.Generic;
using ShadowKV.Compiler.Plans;

namespace ShadowKV.Compiler.Lowering;

// The ShadowKV kernel templates (Emit/Cuda/*.cuh). An op with several passes has one entry per pass, listed in launch
// order; each .cuh's comment block gives layouts, launch geometry and precision. Parameter declarations are copied
// from the .cuh signatures. Template parameters: d → HEAD_DIM, G → GROUP, c → CHUNK, r → RANK.
public static partial class KernelCatalog
{
    /// <summary>
    /// Device helpers shared by the ShadowKV templates (no kernel in it): emitted once, after prelude.cuh, into every
    /// .cu that holds a ShadowKV template.
    /// </summary>
    public const string ShadowKVCommonFile = "shadowkv_common.cuh";

    // Row splits of the Gram matrix: enough (B × upper-triangle tiles × splits) blocks for two waves of 132 SMs.
    private const string GramSplits = "min(16,max(1,ceildiv(264,B*(ceildiv(D,64)*(ceildiv(D,64)+1)/2))))";

    // Key-range splits of sparse attention: 128 keys of [local | outliers | working slots | generated] each.
    private const string AttentionSplits = "ceildiv((nloc+1)*c+o*c+k*c+max_new,128)";

    /// <summary>Scratch buffers the ShadowKV templates bind as <c>scratch:NAME</c>: name → byte size expression.</summary>
    public static IReadOnlyDictionary<string, string> ShadowKVScratchBuffers { get; } = new Dictionary<string, string>
    {
        ["gram_partials"] = $"{GramSplits}*B*D*D*4",
        ["landmark_chunk_scores"] = "B*Hkv*(S/c)*4",
        ["landmark_chunk_slots"] = "B*Hkv*(S/c)*4",
        ["landmark_logits"] = "B*Hkv*G*(S/c)*4",
        ["landmark_softmax_stats"] = "B*Hkv*ceildiv(S/c,256)*G*2*4",
        ["sparse_attention_partials"] = $"B*Hq*{AttentionSplits}*(d+2)*4",
    };

    // ---- prefill: low-rank keys -----------------------------------------------------------------------------------

    public static readonly KernelTemplate KeyGram = new(
        OpContracts.KeyGram, "key_gram.cuh", "key_gram",
        new[] { "d" },
        new KernelParameter[]
        {
            new("const float* __restrict__ k", "in:k"),
            new("const int* __restrict__ token_seq", "in:token_seq"),
            new("float* __restrict__ partials", "scratch:gram_partials"),
            new("int T", "sym:T"),
            new("int B", "sym:B"),
            new("int D", "sym:D"),
            new("int splits", $"sym:{GramSplits}"),
        },
        256,
        new[] { "ceildiv(D,64)*(ceildiv(D,64)+1)/2", GramSplits, "B" },
        "0");

    public static readonly KernelTemplate KeyGramReduce = new(
        OpContracts.KeyGram, "key_gram_reduce.cuh", "key_gram_reduce",
        new[] { "d" },
        new KernelParameter[]
        {
            new("const float* __restrict__ partials", "scratch:gram_partials"),
            new("float* __restrict__ gram", "out:gram"),
            new("int B", "sym:B"),
            new("int D", "sym:D"),
            new("int splits", $"sym:{GramSplits}"),
        },
        256,
        new[] { "ceildiv(D*D,256)", "B", "1" },
        "0");

    // After the cuSOLVER ssyevd step, which overwrites gram with its eigenvectors.
    public static readonly KernelTemplate TakeTopEigenvectors = new(
        OpContracts.KeyEigenbasis, "take_top_eigenvectors.cuh", "take_top_eigenvectors",
        new[] { "r" },
        new KernelParameter[]
        {
            new("const float* __restrict__ gram", "in:gram"),
            new("float* __restrict__ basis", "out:basis"),
            new("int D", "sym:D"),
        },
        256,
        new[] { "r", "B", "1" },
        "0");

    public static readonly KernelTemplate KeyProjection = new(
        OpContracts.KeyProjection, "key_projection.cuh", "key_projection",
        new[] { "r" },
        new KernelParameter[]
        {
            new("const float* __restrict__ k", "in:k"),
            new("const float* __restrict__ basis", "in:basis"),
            new("const int* __restrict__ token_seq", "in:token_seq"),
            new("const int* __restrict__ positions", "in:positions"),
            new("bf16* __restrict__ lowrank", "out:lowrank"),
            new("int T", "sym:T"),
            new("int D", "sym:D"),
            new("int S", "sym:S"),
        },
        256,
        new[] { "ceildiv(T,32)", "ceildiv(r,64)", "B" },
        "0");

    // ---- prefill: landmarks, outliers, local tail, value store ----------------------------------------------------

    public static readonly KernelTemplate LandmarksCosine = new(
        OpContracts.Landmarks, "landmarks_cosine.cuh", "landmarks_cosine",
        new[] { "d", "c" },
        new KernelParameter[]
        {
            new("const bf16* __restrict__ k_cache", "in:k_cache"),
            new("const int* __restrict__ prompt_len", "in:prompt_len"),
            new("float* __restrict__ scores", "scratch:landmark_chunk_scores"),
            new("int Hkv", "sym:Hkv"),
            new("int S", "sym:S"),
            new("int nloc", "sym:nloc"),
        },
        256,
        new[] { "ceildiv(S/c,8)", "Hkv", "B" },
        "0");

    public static readonly KernelTemplate LandmarksSelect = new(
        OpContracts.Landmarks, "landmarks_select.cuh", "landmarks_select",
        new[] { "c" },
        new KernelParameter[]
        {
            new("const float* __restrict__ scores", "scratch:landmark_chunk_scores"),
            new("const int* __restrict__ prompt_len", "in:prompt_len"),
            new("int* __restrict__ landmark_ids", "out:landmark_ids"),
            new("int* __restrict__ landmark_count", "out:landmark_count"),
            new("int* __restrict__ chunk_slot", "scratch:landmark_chunk_slots"),
            new("int Hkv", "sym:Hkv"),
            new("int S", "sym:S"),
            new("int outliers", "sym:o"),
            new("int nloc", "sym:nloc"),
        },
        1024,
        new[] { "Hkv", "B", "1" },
        "0");

    public static readonly KernelTemplate LandmarksWrite = new(
        OpContracts.Landmarks, "landmarks_write.cuh", "landmarks_write",
        new[] { "d", "c" },
        new KernelParameter[]
        {
            new("const bf16* __restrict__ k_cache", "in:k_cache"),
            new("const bf16* __restrict__ v_cache", "in:v_cache"),
            new("const int* __restrict__ prompt_len", "in:prompt_len"),
            new("const int* __restrict__ chunk_slot", "scratch:landmark_chunk_slots"),
            new("bf16* __restrict__ landmarks", "out:landmarks"),
            new("bf16* __restrict__ outlier_k", "out:outlier_k"),
            new("bf16* __restrict__ outlier_v", "out:outlier_v"),
            new("bf16* __restrict__ local_k", "out:local_k"),
            new("bf16* __restrict__ local_v", "out:local_v"),
            new("int* __restrict__ local_count", "out:local_count"),
            new("int Hkv", "sym:Hkv"),
            new("int S", "sym:S"),
            new("int outliers", "sym:o"),
            new("int nloc", "sym:nloc"),
        },
        256,
        new[] { "ceildiv(ceildiv(S,c),8)", "Hkv", "B" },
        "0");

    public static readonly KernelTemplate OffloadValues = ValueStoreCopy(OpContracts.OffloadValues, "offload_values");

    public static readonly KernelTemplate KeepValues = ValueStoreCopy(OpContracts.KeepValues, "keep_values");

    // ---- decode ---------------------------------------------------------------------------------------------------

    public static readonly KernelTemplate RopeAppendGenerated = new(
        OpContracts.RopeAppendGenerated, "rope_append_generated.cuh", "rope_append_generated",
        new[] { "d" },
        new KernelParameter[]
        {
            new("const float* __restrict__ q", "in:q"),
            new("const float* __restrict__ k", "in:k"),
            new("const float* __restrict__ v", "in:v"),
            new("const int* __restrict__ positions", "in:positions"),
            new("const int* __restrict__ token_seq", "in:token_seq"),
            new("const float* __restrict__ inv_freq", "in:inv_freq"),
            new("const int* __restrict__ prompt_len", "in:prompt_len"),
            new("bf16* __restrict__ q_rot", "out:q_rot"),
            new("bf16* __restrict__ gen_k", "out:gen_k"),
            new("bf16* __restrict__ gen_v", "out:gen_v"),
            new("int Hq", "sym:Hq"),
            new("int Hkv", "sym:Hkv"),
            new("int max_new", "sym:max_new"),
        },
        128,
        new[] { "T", "1", "1" },
        "0");

    public static readonly KernelTemplate LandmarkScores = new(
        OpContracts.LandmarkScores, "landmark_scores.cuh", "landmark_scores",
        new[] { "d", "G" },
        new KernelParameter[]
        {
            new("const bf16* __restrict__ q_rot", "in:q_rot"),
            new("const bf16* __restrict__ landmarks", "in:landmarks"),
            new("const int* __restrict__ landmark_count", "in:landmark_count"),
            new("float* __restrict__ logits", "scratch:landmark_logits"),
            new("float* __restrict__ stats", "scratch:landmark_softmax_stats"),
            new("int Hkv", "sym:Hkv"),
            new("int chunks", "sym:S/c"),
        },
        256,
        new[] { "ceildiv(S/c,256)", "Hkv", "B" },
        "0");

    public static readonly KernelTemplate LandmarkScoresFinish = new(
        OpContracts.LandmarkScores, "landmark_scores_finish.cuh", "landmark_scores_finish",
        new[] { "G" },
        new KernelParameter[]
        {
            new("const int* __restrict__ landmark_count", "in:landmark_count"),
            new("const float* __restrict__ logits", "scratch:landmark_logits"),
            new("const float* __restrict__ stats", "scratch:landmark_softmax_stats"),
            new("float* __restrict__ scores", "out:scores"),
            new("int Hkv", "sym:Hkv"),
            new("int chunks", "sym:S/c"),
        },
        256,
        new[] { "ceildiv(S/c,256)", "Hkv", "B" },
        "0");

    public static readonly KernelTemplate TopKChunks = new(
        OpContracts.TopKChunks, "top_k_chunks.cuh", "top_k_chunks",
        new[] { "c" },
        new KernelParameter[]
        {
            new("const float* __restrict__ scores", "in:scores"),
            new("const int* __restrict__ landmark_ids", "in:landmark_ids"),
            new("const int* __restrict__ landmark_count", "in:landmark_count"),
            new("int* __restrict__ selected", "out:selected"),
            new("int Hkv", "sym:Hkv"),
            new("int chunks", "sym:S/c"),
            new("int budget", "sym:k"),
        },
        1024,
        new[] { "Hkv", "B", "1" },
        "0");

    public static readonly KernelTemplate SelectionDiff = new(
        OpContracts.SelectionDiff, "selection_diff.cuh", "selection_diff",
        new[] { "c" },
        new KernelParameter[]
        {
            new("const int* __restrict__ selected", "in:selected"),
            new("const int* slot_chunk", "in:slot_chunk"),
            new("int* slot_chunk_next", "out:slot_chunk_next"),
            new("int* __restrict__ misses", "out:misses"),
            new("int* __restrict__ miss_count", "out:miss_count"),
            new("int Hkv", "sym:Hkv"),
            new("int budget", "sym:k"),
        },
        256,
        new[] { "Hkv", "B", "1" },
        "k*20");

    public static readonly KernelTemplate RebuildKeysRope = new(
        OpContracts.RebuildKeysRope, "rebuild_keys_rope.cuh", "rebuild_keys_rope",
        new[] { "d", "c", "r" },
        new KernelParameter[]
        {
            new("const int* __restrict__ misses", "in:misses"),
            new("const int* __restrict__ miss_count", "in:miss_count"),
            new("const int* __restrict__ slot_chunk_next", "in:slot_chunk_next"),
            new("const bf16* __restrict__ lowrank", "in:lowrank"),
            new("const float* __restrict__ basis", "in:basis"),
            new("const float* __restrict__ inv_freq", "in:inv_freq"),
            new("bf16* __restrict__ work_k", "out:work_k"),
            new("int Hkv", "sym:Hkv"),
            new("int S", "sym:S"),
            new("int budget", "sym:k"),
        },
        128,
        new[] { "ceildiv(k*c,64)", "Hkv", "B" },
        "0");

    public static readonly KernelTemplate FetchValues = new(
        OpContracts.FetchValues, "fetch_values.cuh", "fetch_values",
        new[] { "d", "c" },
        new KernelParameter[]
        {
            new("const int* __restrict__ misses", "in:misses"),
            new("const int* __restrict__ miss_count", "in:miss_count"),
            new("const int* __restrict__ slot_chunk_next", "in:slot_chunk_next"),
            new("const bf16* __restrict__ value_store", "in:value_store"),
            new("bf16* __restrict__ work_v", "out:work_v"),
            new("int Hkv", "sym:Hkv"),
            new("int S", "sym:S"),
            new("int budget", "sym:k"),
        },
        256,
        new[] { "ceildiv(k,8)", "Hkv", "B" },
        "0");

    public static readonly KernelTemplate SparseAttention = new(
        OpContracts.SparseAttention, "sparse_attention.cuh", "sparse_attention",
        new[] { "d", "G", "c" },
        new KernelParameter[]
        {
            new("const bf16* __restrict__ q_rot", "in:q_rot"),
            new("const bf16* __restrict__ local_k", "in:local_k"),
            new("const bf16* __restrict__ local_v", "in:local_v"),
            new("const int* __restrict__ local_count", "in:local_count"),
            new("const bf16* __restrict__ outlier_k", "in:outlier_k"),
            new("const bf16* __restrict__ outlier_v", "in:outlier_v"),
            new("const bf16* __restrict__ work_k", "in:work_k"),
            new("const bf16* __restrict__ work_v", "in:work_v"),
            new("const int* __restrict__ slot_chunk_next", "in:slot_chunk_next"),
            new("const bf16* __restrict__ gen_k", "in:gen_k"),
            new("const bf16* __restrict__ gen_v", "in:gen_v"),
            new("const int* __restrict__ context_len", "in:context_len"),
            new("const int* __restrict__ prompt_len", "in:prompt_len"),
            new("float* __restrict__ partials", "scratch:sparse_attention_partials"),
            new("int B", "sym:B"),
            new("int Hkv", "sym:Hkv"),
            new("int S", "sym:S"),
            new("int outliers", "sym:o"),
            new("int nloc", "sym:nloc"),
            new("int budget", "sym:k"),
            new("int max_new", "sym:max_new"),
            new("int splits", $"sym:{AttentionSplits}"),
        },
        128,
        new[] { AttentionSplits, "Hkv", "B" },
        "0");

    public static readonly KernelTemplate SparseAttentionCombine = new(
        OpContracts.SparseAttention, "sparse_attention_combine.cuh", "sparse_attention_combine",
        new[] { "d" },
        new KernelParameter[]
        {
            new("const float* __restrict__ partials", "scratch:sparse_attention_partials"),
            new("bf16* __restrict__ y", "out:y"),
            new("int B", "sym:B"),
            new("int Hq", "sym:Hq"),
            new("int splits", $"sym:{AttentionSplits}"),
        },
        128,
        new[] { "Hq", "B", "1" },
        "0");

    // Declared after the fields it lists: static initialisers run in textual order within this file.

    /// <summary>Every ShadowKV template; an op's passes appear in launch order.</summary>
    public static IReadOnlyList<KernelTemplate> ShadowKV { get; } =
    [
        KeyGram, KeyGramReduce, TakeTopEigenvectors, KeyProjection,
        LandmarksCosine, LandmarksSelect, LandmarksWrite, OffloadValues, KeepValues,
        RopeAppendGenerated, LandmarkScores, LandmarkScoresFinish, TopKChunks, SelectionDiff,
        RebuildKeysRope, FetchValues, SparseAttention, SparseAttentionCombine,
    ];

    // offload_values and keep_values: one kernel file, two ops (the value store's placement differs).
    private static KernelTemplate ValueStoreCopy(string op, string suffix) => new(
        op, "offload_values.cuh", suffix,
        new[] { "d", "c" },
        new KernelParameter[]
        {
            new("const bf16* __restrict__ v_cache", "in:v_cache"),
            new("const int* __restrict__ prompt_len", "in:prompt_len"),
            new("bf16* __restrict__ value_store", "out:value_store"),
            new("int Hkv", "sym:Hkv"),
            new("int S", "sym:S"),
        },
        256,
        new[] { "ceildiv(S/c,8)", "Hkv", "B" },
        "0");
}
