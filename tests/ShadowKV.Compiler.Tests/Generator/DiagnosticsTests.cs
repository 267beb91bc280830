using Microsoft.CodeAnalysis;
using ShadowKV.Compiler.Tests.Support;

namespace ShadowKV.Compiler.Tests.Generator;

// Each diagnostic comes from a small bad model, at the exact place a user must fix. The generator never crashes.
public sealed class DiagnosticsTests
{
    private const string Layer = """
        using ShadowKV.Compiler;
        namespace Bad;
        public sealed class W
        {
            [Weight("input_layernorm.weight", "hidden")] public required Tensor Norm { get; init; }
            [Weight("self_attn.q_proj.weight", "Hq*d", "hidden")] public required Tensor Q { get; init; }
            [Weight("self_attn.k_proj.weight", "Hkv*d", "hidden")] public required Tensor K { get; init; }
            [Weight("self_attn.o_proj.weight", "hidden", "Hq*d")] public required Tensor O { get; init; }
            public required Tensor Unmapped { get; init; }
        }
        """;

    private static string Model(string body, string attributes = "[Model]", string modifiers = "public static partial") => $$"""
        using ShadowKV.Compiler;
        namespace Bad;
        {{attributes}}
        {{modifiers}} class M
        {
            [Layer]
            static Tensor Block(Tensor x, W w, AttentionContext ctx)
            {
        {{body}}
            }
        }
        """;

    private const string GoodBody = """
                var h = Ops.RmsNorm(x, w.Norm, ctx.RmsEps);
                var a = Ops.Attention(Ops.Linear(h, w.Q), Ops.Linear(h, w.K), Ops.Linear(h, w.K), ctx);
                return x + Ops.Linear(a, w.O);
        """;

    [Fact]
    public void AWellFormedSmallModelHasNoDiagnostics() => Assert.Empty(Diagnose(Model(GoodBody)));

    [Fact]
    public void SKV0001_ModelClassMustBeStaticPartial() =>
        AssertSingle(Model(GoodBody, modifiers: "public static"), "SKV0001", line: 4, "M");

    [Fact]
    public void SKV0002_ExactlyOneLayerMethod() =>
        AssertSingle(Model(GoodBody).Replace("[Layer]", ""), "SKV0002", line: 4, "0 [Layer] methods");

    [Fact]
    public void SKV0003_LayerSignature() =>
        AssertSingle(Model(GoodBody).Replace("Tensor x, W w, AttentionContext ctx", "Tensor x, W w"), "SKV0003", line: 7, "parameters");

    [Fact]
    public void SKV0004_LoopsAreNotGraphCode() =>
        AssertSingle(Model("        for (int i = 0; i < 2; i++) { x = x + x; }\n" + GoodBody), "SKV0004", line: 9, "loop");

    [Fact]
    public void SKV0005_CallsOutsideOps() =>
        AssertSingle(Model(GoodBody.Replace("Ops.RmsNorm(x, w.Norm, ctx.RmsEps)", "Helpers.Norm(x)")) + "\nstatic class Helpers { public static Tensor Norm(Tensor t) => t; }",
            "SKV0005", line: 9, "Bad.Helpers.Norm");

    [Fact]
    public void SKV0006_WeightWithoutACheckpointName() =>
        AssertSingle(Model(GoodBody.Replace("return x + Ops.Linear(a, w.O);", "return x + Ops.Linear(a, w.Unmapped);")), "SKV0006", line: 11, "'Unmapped' has no [Weight]");

    [Fact]
    public void SKV0007_ShapeMismatchVisibleFromTheWeights() =>
        AssertSingle(Model(GoodBody.Replace("Ops.Linear(a, w.O)", "Ops.Linear(a, w.Q)")), "SKV0007", line: 11, "'in' must match");

    [Fact]
    public void SKV0008_UnsupportedExpression() =>
        AssertSingle(Model(GoodBody.Replace("return x + Ops.Linear(a, w.O);", "return x == null ? x : x;")), "SKV0008", line: 11, "not a tensor expression");

    [Fact]
    public void SKV0009_AttentionExactlyOnce() =>
        AssertSingle(Model("        var h = Ops.RmsNorm(x, w.Norm, ctx.RmsEps);\n        return x + Ops.Linear(Ops.Linear(h, w.Q), w.O);"), "SKV0009", line: 10, "exactly once");

    [Fact]
    public void SKV0010_InvalidShadowKVParameters() =>
        AssertSingle(Model(GoodBody, attributes: "[Model]\n[ShadowKV(BudgetTokens = 100, ChunkSize = 8)]"), "SKV0010", line: 4, "multiple of ChunkSize");

    [Fact]
    public void SKV0011_ElementwiseOpsThatCannotBeLowered() =>
        AssertSingle(Model(GoodBody.Replace("return x + Ops.Linear(a, w.O);", "return Ops.Silu(x + Ops.Linear(a, w.O));")), "SKV0011", line: 11, "cannot be lowered");

    private static void AssertSingle(string model, string id, int line, string messagePart)
    {
        Diagnostic diagnostic = Assert.Single(Diagnose(model));
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Equal(line, diagnostic.Location.GetLineSpan().StartLinePosition.Line + 1);
        Assert.Contains(messagePart, diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    private static Diagnostic[] Diagnose(string model)
    {
        var (_, _, diagnostics) = GeneratorHarness.Run(GeneratorHarness.Compilation(("Layer.cs", Layer), ("M.cs", model)));
        return diagnostics.Where(d => d.Id.StartsWith("SKV", StringComparison.Ordinal)).ToArray();
    }
}
