using ShadowKV.Compiler.Frontend;
using ShadowKV.Compiler.Ir;
using ShadowKV.Compiler.Passes;
using ShadowKV.Compiler.Passes.ShadowKV;
using ShadowKV.Compiler.Plans;
using ShadowKV.Compiler.Tests.Support;

namespace ShadowKV.Compiler.Tests.Passes.ShadowKV;

// The ShadowKV rewrites of the attention node. Expected IR is in Snapshots/ beside this file (long, reviewed text).
public sealed class ShadowKVRewriteTests
{
    private const string Model = """
        graph M.model
        prologue:
          %positions = input : [T] i32
          %token_seq = input : [T] i32
          %last_row = input : [B] i32
          %context_len = input : [B] i32
          %prompt_len = input : [B] i32
          %inv_freq = input : [d/2] f32
          %q = input : [T, Hq*d] f32
          %k = input : [T, Hkv*d] f32
          %v = input : [T, Hkv*d] f32
        layer (%a -> %a):
          %a = attention(%q, %k, %v) : [T, Hq*d] bf16  // M.cs:9
        epilogue:
        outputs: %a
        """;

    [Fact]
    public void SplitMakesAPrefillAndADecodeGraphWithOneTokenPerSequence()
    {
        // Decode clones the model with the token dim T replaced by the batch dim B.
        var (prefill, decode) = SplitPrefillDecode.Split(IrParser.Parse(Model), AttentionVariant.ShadowKV);

        Assert.Equal("prefill.shadowkv", prefill.Name);
        Assert.Equal(PhaseKind.Decode, decode.Phase);
        Assert.Equal(IrPrinter.Print(IrParser.Parse(Model.Replace("[T", "[B").Replace("M.model", "M.decode.shadowkv"))), IrPrinter.Print(decode));
    }

    [Theory]
    [InlineData(ValuePlacement.Host)]
    [InlineData(ValuePlacement.Gpu)]
    public void PrefillKeepsExactAttentionAndAddsTheShadowState(ValuePlacement values)
    {
        // Exact flash attention, plus Gram → eigenbasis → projection, landmarks/outliers/local, the value store
        // (offloaded, or kept on the GPU) and the warm selection with the last prompt query.
        Graph after = Run(PhaseKind.Prefill, new ShadowKVSpec(160, 8, 2048, 48, 4, values));

        Snapshot.Verify($"prefill.{values}", IrPrinter.Print(after), "ir");
        Assert.Contains(after.Nodes, n => n.Op == (values == ValuePlacement.Host ? OpContracts.OffloadValues : OpContracts.KeepValues));
    }

    [Fact]
    public void DecodeScoresLandmarksSelectsChunksAndAttendsSparsely()
    {
        // Landmark scores → top-k → diff → rebuild keys ∥ fetch values → sparse attention over the four regions.
        Graph after = Run(PhaseKind.Decode, PassAssert.DefaultShadowKV);

        Snapshot.Verify("decode.Host", IrPrinter.Print(after), "ir");
        Assert.DoesNotContain(after.Nodes, n => n.Op is OpContracts.FlashAttention or OpContracts.DecodeAttention);
    }

    [Fact]
    public void FetchRunsOnItsOwnStreamAndAttentionWaitsForIt()
    {
        // Value fetch goes to the fetch stream; sparse attention waits on its event, fetch waits on the selection.
        Graph after = new AssignStreams().Run(Run(PhaseKind.Decode, PassAssert.DefaultShadowKV), new PassContext(PassAssert.DefaultShadowKV));

        Node fetch = after.Nodes.Single(n => n.Op == OpContracts.FetchValues);
        Node diff = after.Nodes.Single(n => n.Op == OpContracts.SelectionDiff);
        Node attention = after.Nodes.Single(n => n.Op == OpContracts.SparseAttention);
        Assert.Equal("fetch", fetch.Attribute("stream"));
        Assert.Equal("ev.slot_chunk_next", diff.Attribute("record"));
        Assert.Equal("ev.slot_chunk_next", fetch.Attribute("wait"));
        Assert.Equal("ev.work_v", attention.Attribute("wait"));
        Assert.Equal("compute", attention.Attribute("stream"));
    }

    private static Graph Run(PhaseKind phase, ShadowKVSpec spec)
    {
        var (prefill, decode) = SplitPrefillDecode.Split(IrParser.Parse(Model), AttentionVariant.ShadowKV);
        var context = new PassContext(spec);
        IPass rewrite = phase == PhaseKind.Prefill ? new RewritePrefillAttention() : new RewriteDecodeAttention();
        Graph after = new FuseRopeIntoKvAppend().Run(rewrite.Run(phase == PhaseKind.Prefill ? prefill : decode, context), context);
        Assert.Empty(context.Diagnostics);
        Assert.Empty(IrVerifier.Verify(after, requireTypes: true));
        return after;
    }
}
