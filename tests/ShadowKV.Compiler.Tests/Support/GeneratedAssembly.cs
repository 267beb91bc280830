using System.Reflection;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;
using ShadowKV.Compiler.Plans;

namespace ShadowKV.Compiler.Tests.Support;

/// <summary>
/// Compiles the model sources plus everything the generator produced into an in-memory assembly and reads the
/// generated <c>Plan</c> back: proof that the generated C# compiles, and the plan the runtime would see.
/// </summary>
public static class GeneratedAssembly
{
    public static IReadOnlyList<CompiledModel> CompileAndLoad(params (string Path, string Text)[] files)
    {
        var (_, result, diagnostics) = GeneratorHarness.Run(GeneratorHarness.Compilation(files));
        Assert.Empty(diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error));
        var compilation = GeneratorHarness.Compilation(files).AddSyntaxTrees(result.GeneratedTrees);
        using var image = new MemoryStream();
        var emitted = compilation.Emit(image);
        Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
        Assembly assembly = new AssemblyLoadContext("generated", isCollectible: true).LoadFromStream(new MemoryStream(image.ToArray()));
        Type registry = assembly.GetTypes().Single(t => t.Name == "CompiledModels");
        return (IReadOnlyList<CompiledModel>)registry.GetProperty("All")!.GetValue(null)!;
    }
}
