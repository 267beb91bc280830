using ShadowKV.Compiler.Ir;
using ShadowKV.Compiler.Passes;

namespace ShadowKV.Compiler.Tests.Passes;

public sealed class FrontEndPassTests
{
    private const string Inputs = """
        graph M.model
        prologue:
          %tokens = input : [T] i32
          %w.e = weight : [vocab, hidden] bf16
          %x = embedding(%tokens, %w.e)
        """;

    [Fact]
    public void InferShapesTypesEveryNodeFromTheWeights()
    {
        // Norms feed bf16 GEMMs, GEMMs produce f32, attention output is bf16; shapes follow the weights' symbols.
        PassAssert.Rewrites(new InferShapes(), Inputs + """

            layer (%x -> %y):
              %w.n = weight : [hidden] bf16
              %w.q = weight : [Hq*d, hidden] bf16
              %w.k = weight : [Hkv*d, hidden] bf16
              %h = rms_norm(%x, %w.n) {eps=rms_eps}
              %q = linear(%h, %w.q, _, _)
              %k = linear(%h, %w.k, _, _)
              %a = attention(%q, %k, %k)
              %y = add(%x, %x)
            epilogue:
            outputs: %y
            """, """
            graph M.model
            prologue:
              %tokens = input : [T] i32
              %w.e = weight : [vocab, hidden] bf16
              %x = embedding(%tokens, %w.e) : [T, hidden] f32
            layer (%x -> %y):
              %w.n = weight : [hidden] bf16
              %w.q = weight : [Hq*d, hidden] bf16
              %w.k = weight : [Hkv*d, hidden] bf16
              %h = rms_norm(%x, %w.n) {eps=rms_eps} : [T, hidden] bf16
              %q = linear(%h, %w.q, _, _) : [T, Hq*d] f32
              %k = linear(%h, %w.k, _, _) : [T, Hkv*d] f32
              %a = attention(%q, %k, %k) : [T, Hq*d] bf16
              %y = add(%x, %x) : [T, hidden] f32
            epilogue:
            outputs: %y
            """);
    }

    [Fact]
    public void InferShapesReportsAProjectionOfTheWrongWidth()
    {
        // A Linear whose weight's input dim is not the activation's width is a shape error at the call.
        Graph graph = IrParser.Parse(Inputs + """

            layer (%x -> %y):
              %w.o = weight : [hidden, Hq*d] bf16
              %y = linear(%x, %w.o, _, _)  // M.cs:7
            epilogue:
            outputs: %y
            """);
        var context = new PassContext(null);

        new InferShapes().Run(graph, context);

        IrDiagnostic diagnostic = Assert.Single(context.Diagnostics);
        Assert.Equal("SKV0007", diagnostic.Id);
        Assert.Equal(7, diagnostic.Origin.Line);
        Assert.Contains("'hidden'", diagnostic.Message);
    }

    [Fact]
    public void CanonicalizePutsSiluFirstAndTheResidualFirst()
    {
        // Products have the SiLU operand first and sums the residual first, so each fusion needs one pattern.
        PassAssert.Rewrites(new Canonicalize(), Inputs + """

            layer (%x -> %y):
              %w.g = weight : [ffn, hidden] bf16
              %w.d = weight : [hidden, ffn] bf16
              %g = linear(%x, %w.g, _, _) : [T, ffn] f32
              %s = silu(%g) : [T, ffn] f32
              %m = mul(%g, %s) : [T, ffn] f32
              %p = linear(%m, %w.d, _, _) : [T, hidden] f32
              %y = add(%p, %x) : [T, hidden] f32
            epilogue:
            outputs: %y
            """, """
            graph M.model
            prologue:
              %tokens = input : [T] i32
              %w.e = weight : [vocab, hidden] bf16
              %x = embedding(%tokens, %w.e)
            layer (%x -> %y):
              %w.g = weight : [ffn, hidden] bf16
              %w.d = weight : [hidden, ffn] bf16
              %g = linear(%x, %w.g, _, _) : [T, ffn] f32
              %s = silu(%g) : [T, ffn] f32
              %m = mul(%s, %g) : [T, ffn] f32
              %p = linear(%m, %w.d, _, _) : [T, hidden] f32
              %y = add(%x, %p) : [T, hidden] f32
            epilogue:
            outputs: %y
            """);
    }

    [Fact]
    public void CanonicalizeDropsTheLastRowGatherInDecode()
    {
        // In decode every row is a sequence's last token (T = B), so the gather is the identity and disappears.
        PassAssert.Rewrites(new Canonicalize(), """
            graph M.decode.full
            prologue:
              %x = input : [B, hidden] f32
              %last_row = input : [B] i32
            layer (%x -> %x):
            epilogue:
              %w.n = weight : [hidden] bf16
              %x.last = gather_rows(%x, %last_row) : [B, hidden] f32
              %h = rms_norm(%x.last, %w.n) {eps=rms_eps} : [B, hidden] bf16
            outputs: %h
            """, """
            graph M.decode.full
            prologue:
              %x = input : [B, hidden] f32
              %last_row = input : [B] i32
            layer (%x -> %x):
            epilogue:
              %w.n = weight : [hidden] bf16
              %h = rms_norm(%x, %w.n) {eps=rms_eps} : [B, hidden] bf16
            outputs: %h
            """);
    }

    [Fact]
    public void DeadNodesGoButInputsWeightsAndCacheWritesStay()
    {
        // Nothing reads %unused, so it goes; the unread weight and the cache-writing append stay.
        PassAssert.Rewrites(new EliminateDeadNodes(), """
            graph M.prefill.full
            prologue:
              %x = input : [T, hidden] f32
            layer (%x -> %x):
              %w.unread = weight : [hidden] bf16
              %unused = silu(%x) : [T, hidden] f32
              %q.rope, %k_cache, %v_cache = rope_kv_append(%x, %x, %x, %x, %x, %x)
            epilogue:
            outputs: %x
            """, """
            graph M.prefill.full
            prologue:
              %x = input : [T, hidden] f32
            layer (%x -> %x):
              %w.unread = weight : [hidden] bf16
              %q.rope, %k_cache, %v_cache = rope_kv_append(%x, %x, %x, %x, %x, %x)
            epilogue:
            outputs: %x
            """);
    }
}
