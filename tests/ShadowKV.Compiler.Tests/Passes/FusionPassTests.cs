using ShadowKV.Compiler.Passes;

namespace ShadowKV.Compiler.Tests.Passes;

public sealed class FusionPassTests
{
    private const string Header = """
        graph M.prefill.full
        prologue:
          %x = input : [T, hidden] f32
          %o = input : [T, hidden] f32
          %w.n = weight : [hidden] bf16
          %w.g = weight : [ffn, hidden] bf16
          %w.u = weight : [ffn, hidden] bf16
          %w.d = weight : [hidden, ffn] bf16
        """;

    [Fact]
    public void ResidualAddFusesIntoTheFollowingNorm()
    {
        // x + o feeding a norm becomes add_rms_norm writing both the sum and the normalised row.
        PassAssert.Rewrites(new FuseAddRmsNorm(), Header + """

            layer (%x -> %x.1):
              %x.1 = add(%x, %o) : [T, hidden] f32  // M.cs:5
              %m = rms_norm(%x.1, %w.n) {eps=rms_eps} : [T, hidden] bf16  // M.cs:6
            epilogue:
            outputs: %x.1
            """, Header + """

            layer (%x -> %x.1):
              %x.1, %m = add_rms_norm(%x, %o, %w.n) {eps=rms_eps} : [T, hidden] f32, [T, hidden] bf16  // M.cs:6
            epilogue:
            outputs: %x.1
            """);
    }

    [Fact]
    public void SiluTimesUpBecomesOneKernel()
    {
        // silu(gate) * up (SwiGLU) is one elementwise kernel producing the bf16 input of the down projection.
        PassAssert.Rewrites(new FuseSiluMul(), Header + """

            layer (%x -> %y):
              %g = linear(%x, %w.g, _, _) : [T, ffn] f32  // M.cs:7
              %u = linear(%x, %w.u, _, _) : [T, ffn] f32  // M.cs:7
              %s = silu(%g) : [T, ffn] f32  // M.cs:7
              %p = mul(%s, %u) : [T, ffn] f32  // M.cs:7
              %y = linear(%p, %w.d, _, _) : [T, hidden] f32  // M.cs:7
            epilogue:
            outputs: %y
            """, Header + """

            layer (%x -> %y):
              %g = linear(%x, %w.g, _, _) : [T, ffn] f32  // M.cs:7
              %u = linear(%x, %w.u, _, _) : [T, ffn] f32  // M.cs:7
              %p = silu_mul(%g, %u) : [T, ffn] bf16  // M.cs:7
              %y = linear(%p, %w.d, _, _) : [T, hidden] f32  // M.cs:7
            epilogue:
            outputs: %y
            """);
    }

    [Fact]
    public void ResidualAddRidesTheGemmEpilogue()
    {
        // x + Linear(m, W) with no other reader of the projection is one GEMM with the residual as its C input.
        PassAssert.Rewrites(new FuseResidualIntoLinear(), Header + """

            layer (%x -> %y):
              %p = linear(%o, %w.g, _, _) : [T, ffn] f32  // M.cs:7
              %down = linear(%p, %w.d, _, _) : [T, hidden] f32  // M.cs:7
              %y = add(%x, %down) : [T, hidden] f32  // M.cs:7
            epilogue:
            outputs: %y
            """, Header + """

            layer (%x -> %y):
              %p = linear(%o, %w.g, _, _) : [T, ffn] f32  // M.cs:7
              %y = linear(%p, %w.d, _, %x) : [T, hidden] f32  // M.cs:7
            epilogue:
            outputs: %y
            """);
    }
}
