using ShadowKV.Compiler.Passes;

namespace ShadowKV.Compiler.Tests.Passes;

public sealed class AttentionPassTests
{
    private static string Layer(string phase, string tokens) => $$"""
        graph M.{{phase}}.full
        prologue:
          %positions = input : [{{tokens}}] i32
          %token_seq = input : [{{tokens}}] i32
          %context_len = input : [B] i32
          %inv_freq = input : [d/2] f32
          %q = input : [{{tokens}}, Hq*d] f32
          %k = input : [{{tokens}}, Hkv*d] f32
          %v = input : [{{tokens}}, Hkv*d] f32
        layer (%a -> %a):
          %a = attention(%q, %k, %v) : [{{tokens}}, Hq*d] bf16  // M.cs:9
        epilogue:
        outputs: %a
        """;

    private static string Prologue(string phase, string tokens) => $$"""
        graph M.{{phase}}.full
        prologue:
          %positions = input : [{{tokens}}] i32
          %token_seq = input : [{{tokens}}] i32
          %context_len = input : [B] i32
          %inv_freq = input : [d/2] f32
          %q = input : [{{tokens}}, Hq*d] f32
          %k = input : [{{tokens}}, Hkv*d] f32
          %v = input : [{{tokens}}, Hkv*d] f32
        """;

    [Fact]
    public void PrefillAttentionBecomesRopeAppendAndFlashAttention()
    {
        // Full attention in prefill: rotate q and k, append k/v to the cache, causal flash attention over the cache.
        PassAssert.Rewrites(new LowerAttention(), Layer("prefill", "T"), Prologue("prefill", "T") + """

            layer (%a -> %a):
              %q.rope = rope(%q, %positions, %inv_freq) : [T, Hq*d] bf16  // M.cs:9
              %k.rope = rope(%k, %positions, %inv_freq) : [T, Hkv*d] bf16  // M.cs:9
              %k_cache, %v_cache = kv_append(%k.rope, %v, %positions, %token_seq) : [B, Hkv, S, d] bf16, [B, Hkv, S, d] bf16  // M.cs:9
              %a = flash_attention(%q.rope, %k_cache, %v_cache, %positions, %token_seq) : [T, Hq*d] bf16  // M.cs:9
            epilogue:
            outputs: %a
            """);
    }

    [Fact]
    public void DecodeAttentionReadsTheWholeCacheForOneQuery()
    {
        // Full attention in decode: the same append, then one query per sequence over its cache length.
        PassAssert.Rewrites(new LowerAttention(), Layer("decode", "B"), Prologue("decode", "B") + """

            layer (%a -> %a):
              %q.rope = rope(%q, %positions, %inv_freq) : [B, Hq*d] bf16  // M.cs:9
              %k.rope = rope(%k, %positions, %inv_freq) : [B, Hkv*d] bf16  // M.cs:9
              %k_cache, %v_cache = kv_append(%k.rope, %v, %positions, %token_seq) : [B, Hkv, S, d] bf16, [B, Hkv, S, d] bf16  // M.cs:9
              %a = decode_attention(%q.rope, %k_cache, %v_cache, %token_seq, %context_len) : [B, Hq*d] bf16  // M.cs:9
            epilogue:
            outputs: %a
            """);
    }

    [Fact]
    public void RopeFusesIntoTheCacheAppend()
    {
        // Both rotations and the append become one rope_kv_append that also yields q_rot.
        PassAssert.Rewrites(new FuseRopeIntoKvAppend(), Prologue("prefill", "T") + """

            layer (%a -> %a):
              %q.rope = rope(%q, %positions, %inv_freq) : [T, Hq*d] bf16  // M.cs:9
              %k.rope = rope(%k, %positions, %inv_freq) : [T, Hkv*d] bf16  // M.cs:9
              %k_cache, %v_cache = kv_append(%k.rope, %v, %positions, %token_seq) : [B, Hkv, S, d] bf16, [B, Hkv, S, d] bf16  // M.cs:9
              %a = flash_attention(%q.rope, %k_cache, %v_cache, %positions, %token_seq) : [T, Hq*d] bf16  // M.cs:9
            epilogue:
            outputs: %a
            """, Prologue("prefill", "T") + """

            layer (%a -> %a):
              %q.rope, %k_cache, %v_cache = rope_kv_append(%q, %k, %v, %positions, %token_seq, %inv_freq) : [T, Hq*d] bf16, [B, Hkv, S, d] bf16, [B, Hkv, S, d] bf16  // M.cs:9
              %a = flash_attention(%q.rope, %k_cache, %v_cache, %positions, %token_seq) : [T, Hq*d] bf16  // M.cs:9
            epilogue:
            outputs: %a
            """);
    }
}
