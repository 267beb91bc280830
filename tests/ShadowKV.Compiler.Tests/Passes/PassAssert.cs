using ShadowKV.Compiler.Frontend;
using ShadowKV.Compiler.Ir;
using ShadowKV.Compiler.Passes;

namespace ShadowKV.Compiler.Tests.Passes;

/// <summary>Before/expected checks for one pass, with the IR verifier run on the result.</summary>
internal static class PassAssert
{
    public static readonly ShadowKVSpec DefaultShadowKV = new(160, 8, 2048, 48, 4, ValuePlacement.Host);

    public static Graph Rewrites(IPass pass, string before, string expected, ShadowKVSpec? shadowKV = null)
    {
        var context = new PassContext(shadowKV ?? DefaultShadowKV);
        Graph result = pass.Run(IrParser.Parse(before), context);

        Assert.Empty(context.Diagnostics);
        Assert.Equal(Normalize(expected), IrPrinter.Print(result));
        Assert.Empty(IrVerifier.Verify(result, requireTypes: false));
        return result;
    }

    public static string Normalize(string text) => text.Replace("\r\n", "\n").Trim('\n') + "\n";
}
