extern alias generator;

using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using generator::ShadowKV.Compiler.Generator;
using ShadowKV.Compiler.Tests.Support;

namespace ShadowKV.Compiler.Tests.Generator;

// The generator caches every step: a rerun on an unchanged compilation, an unrelated edit, or a comment edit
// recomputes nothing and changes no output.
public sealed class IncrementalityTests
{
    [Fact]
    public void SecondRunOnAClonedCompilationIsFullyCached()
    {
        var compilation = GeneratorHarness.Compilation(GeneratorHarness.ModelFiles("Llama"));
        var (driver, _, _) = GeneratorHarness.Run(compilation);

        var (_, second, _) = GeneratorHarness.Run(compilation.Clone(), driver);

        AssertEveryTrackedStepCached(second);
    }

    [Fact]
    public void EditingAnUnrelatedFileChangesNothing()
    {
        var files = GeneratorHarness.ModelFiles("Llama").Append(("Other.cs", "namespace Other; public static class Helper { public static int One => 1; }")).ToArray();
        var compilation = GeneratorHarness.Compilation(files);
        var (driver, first, _) = GeneratorHarness.Run(compilation);
        SyntaxTree other = compilation.SyntaxTrees.Single(t => t.FilePath == "Other.cs");

        var edited = compilation.ReplaceSyntaxTree(other, CSharpSyntaxTree.ParseText("namespace Other; public static class Helper { public static int Two => 2; }", (CSharpParseOptions)other.Options, "Other.cs", cancellationToken: TestContext.Current.CancellationToken));
        var (_, second, _) = GeneratorHarness.Run(edited, driver);

        AssertEveryTrackedStepCached(second);
        Assert.Equal(Sources(first), Sources(second));
    }

    [Fact]
    public void EditingACommentInTheModelChangesNoOutput()
    {
        var compilation = GeneratorHarness.Compilation(GeneratorHarness.ModelFiles("Llama"));
        var (driver, first, _) = GeneratorHarness.Run(compilation);
        SyntaxTree model = compilation.SyntaxTrees.Single(t => t.FilePath == "Llama.cs");
        string text = model.ToString().Replace("// the rewrite anchor", "// where ShadowKV rewrites").Replace("RoPE + cache + attention; the rewrite anchor", "RoPE, cache and attention: the anchor!!");
        Assert.NotEqual(model.ToString(), text);

        var (_, second, _) = GeneratorHarness.Run(compilation.ReplaceSyntaxTree(model, CSharpSyntaxTree.ParseText(text, (CSharpParseOptions)model.Options, "Llama.cs", cancellationToken: TestContext.Current.CancellationToken)), driver);

        Assert.Equal(Sources(first), Sources(second));
        var outputs = second.Results.Single().TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs);
        Assert.All(outputs, o => Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"output step was {o.Reason}"));
    }

    private static void AssertEveryTrackedStepCached(GeneratorDriverRunResult run)
    {
        var steps = run.Results.Single().TrackedSteps;
        foreach (string name in GraphGenerator.TrackedSteps)
        {
            Assert.True(steps.ContainsKey(name), $"step {name} was not tracked");
            Assert.All(steps[name].SelectMany(s => s.Outputs), o =>
                Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{name}: {o.Reason}"));
        }
    }

    private static string[] Sources(GeneratorDriverRunResult run) =>
        run.Results.Single().GeneratedSources.Select(s => s.HintName + "\n" + s.SourceText).ToArray();
}
