extern alias generator;

using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using generator::ShadowKV.Compiler.Generator;

namespace ShadowKV.Compiler.Tests.Support;

/// <summary>Runs the source generator on in-memory C# files against the framework and Abstractions references.</summary>
public static class GeneratorHarness
{
    private static readonly ImmutableArray<MetadataReference> References = LoadReferences();

    public static CSharpCompilation Compilation(params (string Path, string Text)[] files) =>
        CSharpCompilation.Create(
            "Models",
            files.Select(f => CSharpSyntaxTree.ParseText(f.Text, new CSharpParseOptions(LanguageVersion.Preview), path: f.Path)),
            References,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    /// <summary>As <see cref="Compilation"/>, also referencing the runtime (as models/ does), which adds Model.Load.</summary>
    public static CSharpCompilation CompilationWithRuntime(params (string Path, string Text)[] files) =>
        Compilation(files).AddReferences(MetadataReference.CreateFromFile(typeof(ShadowKV.Runtime.Engine.InferenceEngine).Assembly.Location));

    public static GeneratorDriver Driver() =>
        CSharpGeneratorDriver.Create(
            new[] { new GraphGenerator().AsSourceGenerator() },
            parseOptions: new CSharpParseOptions(LanguageVersion.Preview),
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>Runs the generator; returns the driver (for re-runs), generated files and all diagnostics.</summary>
    public static (GeneratorDriver Driver, GeneratorDriverRunResult Result, ImmutableArray<Diagnostic> Diagnostics) Run(CSharpCompilation compilation, GeneratorDriver? driver = null)
    {
        driver = (driver ?? Driver()).RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out ImmutableArray<Diagnostic> generatorDiagnostics);
        var compileErrors = output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error);
        return (driver, driver.GetRunResult(), generatorDiagnostics.AddRange(compileErrors));
    }

    /// <summary>The model sources exactly as they are in models/.</summary>
    public static (string Path, string Text)[] ModelFiles(string family) =>
        Directory.GetFiles(Path.Combine(RepositoryFiles.Root, "models", "ShadowKV.Models", family), "*.cs")
            .OrderBy(p => p, StringComparer.Ordinal)
            .Select(p => (Path.GetFileName(p), File.ReadAllText(p).Replace("\r\n", "\n")))
            .ToArray();

    private static ImmutableArray<MetadataReference> LoadReferences()
    {
        string trusted = (string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!;
        return trusted.Split(Path.PathSeparator)
            .Where(p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(p) is "netstandard.dll" or "mscorlib.dll")
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .Append(MetadataReference.CreateFromFile(typeof(ModelAttribute).Assembly.Location))
            .ToImmutableArray();
    }
}
