using System;
using System.Collections.Generic;
using ShadowKV.Compiler.Plans;

namespace ShadowKV.Compiler.Lowering;

// The full-attention path and the ops every phase shares. Each entry mirrors its Emit/Cuda/<file>: the declarations are
// the kernel's parameters verbatim (KernelCatalogTests checks that), the comment block at the top of the file says why
// the grid and block are what they are.
public static partial class KernelCatalog
{
    /// <summary>Greedy sampling: an engine kernel, not a plan op.</summary>
    public const string ArgmaxOp = "argmax";

    /// <summary>Temperature / top-k / top-p sampling: an engine kernel, not a plan op.</summary>
    public const string SampleTopPOp = "sample_top_p";

    public static readonly KernelTemplate Embedding = new(
        OpContracts.Embedding, "embedding.cuh", "embedding", Array.Empty<string>(),
        new KernelParameter[]
        {
            new("const int* __restrict__ tokens", "in:tokens"),
            new("const bf16* __restrict__ table", "in:table"),
            new("float* __restrict__ x", "out:x"),
            new("int hidden", "sym:hidden"),
            new("int vocab", "sym:vocab"),
        },
        256, new[] { "T", "1", "1" }, "0");

    public static readonly KernelTemplate RmsNorm = new(
        OpContracts.RmsNorm, "rms_norm.cuh", "rms_norm", Array.Empty<string>(),
        new KernelParameter[]
        {
            new("const float* __restrict__ x", "in:x"),
            new("const bf16* __restrict__ weight", "in:weight"),
            new("bf16* __restrict__ y", "out:y"),
            new("int hidden", "sym:hidden"),
            new("float eps", "attr:eps"),
        },
        256, new[] { "rows", "1", "1" }, "0");

    public static readonly KernelTemplate AddRmsNorm = new(
        OpContracts.AddRmsNorm, "add_rms_norm.cuh", "add_rms_norm", Array.Empty<string>(),
        new KernelParameter[]
        {
            new("const float* x", "in:x"),
            new("const float* residual", "in:residual"),
            new("const bf16* __restrict__ weight", "in:weight"),
            new("float* sum", "out:sum"),
            new("bf16* __restrict__ y", "out:y"),
            new("int hidden", "sym:hidden"),
            new("float eps", "attr:eps"),
        },
        256, new[] { "rows", "1", "1" }, "0");

    public static readonly KernelTemplate GatherRows = new(
        OpContracts.GatherRows, "gather_rows.cuh", "gather_rows", Array.Empty<string>(),
        new KernelParameter[]
        {
            new("const float* __restrict__ x", "in:x"),
            new("const int* __restrict__ rows", "in:rows"),
            new("float* __restrict__ y", "out:y"),
            new("int width", "sym:row_words"),
            new("int T", "sym:T"),
        },
        256, new[] { "B", "1", "1" }, "0");

    public static readonly KernelTemplate SiluMul = new(
        OpContracts.SiluMul, "silu_mul.cuh", "silu_mul", Array.Empty<string>(),
        new KernelParameter[]
        {
            new("const float* __restrict__ gate", "in:gate"),
            new("const float* __restrict__ up", "in:up"),
            new("bf16* __restrict__ y", "out:y"),
            new("int rows", "sym:rows"),
            new("int width", "sym:ffn"),
        },
        256, new[] { "ceildiv(rows * ffn, 1024)", "1", "1" }, "0");

    public static readonly KernelTemplate RopeKvAppend = new(
        OpContracts.RopeKvAppend, "rope_kv_append.cuh", "rope_kv_append", new[] { "d" },
        new KernelParameter[]
        {
            new("const float* __restrict__ q", "in:q"),
            new("const float* __restrict__ k", "in:k"),
            new("const float* __restrict__ v", "in:v"),
            new("const int* __restrict__ positions", "in:positions"),
            new("const int* __restrict__ token_seq", "in:token_seq"),
            new("const float* __restrict__ inv_freq", "in:inv_freq"),
            new("bf16* __restrict__ q_rot", "out:q_rot"),
            new("bf16* __restrict__ k_cache", "out:k_cache"),
            new("bf16* __restrict__ v_cache", "out:v_cache"),
            new("int Hq", "sym:Hq"),
            new("int Hkv", "sym:Hkv"),
            new("int S", "sym:S"),
            new("int B", "sym:B"),
        },
        128, new[] { "T", "1", "1" }, "0");

    public static readonly KernelTemplate FlashAttention = new(
        OpContracts.FlashAttention, "flash_attention.cuh", "flash_attention", new[] { "d", "G" },
        new KernelParameter[]
        {
            new("const bf16* __restrict__ q_rot", "in:q_rot"),
            new("const bf16* __restrict__ k_cache", "in:k_cache"),
            new("const bf16* __restrict__ v_cache", "in:v_cache"),
            new("const int* __restrict__ positions", "in:positions"),
            new("const int* __restrict__ token_seq", "in:token_seq"),
            new("bf16* __restrict__ y", "out:y"),
            new("int T", "sym:T"),
            new("int Hq", "sym:Hq"),
            new("int Hkv", "sym:Hkv"),
            new("int S", "sym:S"),
        },
        128, new[] { "ceildiv(T, 64)", "Hq", "1" }, "0");

    public static readonly KernelTemplate DecodeAttention = new(
        OpContracts.DecodeAttention, "decode_attention.cuh", "decode_attention", new[] { "d", "G" },
        new KernelParameter[]
        {
            new("const bf16* __restrict__ q_rot", "in:q_rot"),
            new("const bf16* __restrict__ k_cache", "in:k_cache"),
            new("const bf16* __restrict__ v_cache", "in:v_cache"),
            new("const int* __restrict__ token_seq", "in:token_seq"),
            new("const int* __restrict__ context_len", "in:context_len"),
            new("float* __restrict__ partials", "scratch:decode_partials"),
            new("int Hkv", "sym:Hkv"),
            new("int S", "sym:S"),
            new("int B", "sym:B"),
        },
        128, new[] { "ceildiv(S, 256)", "Hkv", "B" }, "0");

    public static readonly KernelTemplate DecodeAttentionCombine = new(
        OpContracts.DecodeAttention, "decode_attention_combine.cuh", "decode_attention_combine", new[] { "d" },
        new KernelParameter[]
        {
            new("const float* __restrict__ partials", "scratch:decode_partials"),
            new("const int* __restrict__ token_seq", "in:token_seq"),
            new("const int* __restrict__ context_len", "in:context_len"),
            new("bf16* __restrict__ y", "out:y"),
            new("int Hq", "sym:Hq"),
            new("int S", "sym:S"),
            new("int splits", "sym:ceildiv(S, 256)"),
            new("int B", "sym:B"),
        },
        128, new[] { "Hq", "B", "1" }, "0");

    public static readonly KernelTemplate Argmax = new(
        ArgmaxOp, "argmax.cuh", "argmax", Array.Empty<string>(),
        new KernelParameter[]
        {
            new("const float* __restrict__ logits", "in:logits"),
            new("int* __restrict__ tokens", "out:tokens"),
            new("int vocab", "sym:vocab"),
        },
        512, new[] { "B", "1", "1" }, "0");

    public static readonly KernelTemplate SampleTopP = new(
        SampleTopPOp, "sample_top_p.cuh", "sample_top_p", Array.Empty<string>(),
        new KernelParameter[]
        {
            new("const float* __restrict__ logits", "in:logits"),
            new("const float* __restrict__ temperature", "in:temperature"),
            new("const int* __restrict__ top_k", "in:top_k"),
            new("const float* __restrict__ top_p", "in:top_p"),
            new("const float* __restrict__ uniform", "in:uniform"),
            new("int* __restrict__ tokens", "out:tokens"),
            new("int vocab", "sym:vocab"),
        },
        1024, new[] { "B", "1", "1" }, "0");

    /// <summary>The dense templates, in launch order where several implement one op.</summary>
    public static readonly IReadOnlyList<KernelTemplate> Dense =
    [
        Embedding, RmsNorm, AddRmsNorm, GatherRows, SiluMul, RopeKvAppend, FlashAttention,
        DecodeAttention, DecodeAttentionCombine, Argmax, SampleTopP,
    ];

    /// <summary>
    /// Scratch buffers bound as <c>scratch:NAME</c>: name → size in bytes as a size expression. One dictionary for the
    /// dense templates; <see cref="ScratchBuffers"/> joins it with the ShadowKV ones. decode_partials: [B, Hq, ceildiv(S, 256), d + 2] f32
    /// (256 = the SPLIT of decode_attention.cuh and decode_attention_combine.cuh).
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> DenseScratchBuffers = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["decode_partials"] = "B * Hq * ceildiv(S, 256) * (d + 2) * 4",
    };
}
