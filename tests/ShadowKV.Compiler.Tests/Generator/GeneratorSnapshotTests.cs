using ShadowKV.Compiler.Plans;
using ShadowKV.Compiler.Tests.Support;

namespace ShadowKV.Compiler.Tests.Generator;

// The generated C# and every phase's .cu, for the model families in models/, are golden files.
public sealed class GeneratorSnapshotTests
{
    [Theory]
    [InlineData("Llama")]
    [InlineData("Qwen2")]
    public void GeneratedCSharpMatchesSnapshot(string family)
    {
        var (_, result, diagnostics) = GeneratorHarness.Run(GeneratorHarness.Compilation(GeneratorHarness.ModelFiles(family)));

        Assert.Empty(diagnostics);
        var generated = result.Results.Single().GeneratedSources.Single(s => s.HintName == $"ShadowKV.Models.{family}.g.cs");
        Snapshot.Verify($"{family}.g", generated.SourceText.ToString(), "cs");
    }

    [Theory]
    [InlineData("Llama")]
    [InlineData("Qwen2")]
    public void EveryPhaseCudaSourceMatchesSnapshot(string family)
    {
        CompiledModel model = GeneratedAssembly.CompileAndLoad(GeneratorHarness.ModelFiles(family)).Single();

        Assert.Equal(["prefill.full", "decode.full", "prefill.shadowkv", "decode.shadowkv", "sampling"], model.Sources.Select(s => s.Name));
        foreach (CudaSource source in model.Sources)
        {
            Snapshot.Verify($"{family}.{source.Name}", source.Text, "cu");
        }
    }

    [Fact]
    public void AModelAssemblyReferencingTheRuntimeGetsALoadMethod()
    {
        var (_, withRuntime, diagnostics) = GeneratorHarness.Run(GeneratorHarness.CompilationWithRuntime(GeneratorHarness.ModelFiles("Llama")));
        var (_, withoutRuntime, _) = GeneratorHarness.Run(GeneratorHarness.Compilation(GeneratorHarness.ModelFiles("Llama")));

        Assert.Empty(diagnostics); // the generated Load compiles against the runtime's InferenceEngine and EngineOptions
        var loader = withRuntime.Results.Single().GeneratedSources.Single(s => s.HintName == "ShadowKV.Models.Llama.Load.g.cs");
        Snapshot.Verify("Llama.Load.g", loader.SourceText.ToString(), "cs");
        Assert.DoesNotContain(withoutRuntime.Results.Single().GeneratedSources, s => s.HintName.EndsWith(".Load.g.cs", StringComparison.Ordinal));
    }

    [Fact]
    public void RegistryListsEveryModelOfTheAssembly()
    {
        var files = GeneratorHarness.ModelFiles("Llama").Concat(GeneratorHarness.ModelFiles("Qwen2")).ToArray();

        var models = GeneratedAssembly.CompileAndLoad(files);

        Assert.Equal(["Llama", "Qwen2"], models.Select(m => m.Name));
        Assert.Equal(["LlamaForCausalLM", "MistralForCausalLM"], models[0].Architectures);
        Assert.Contains(models[1].Weights, w => w.Name == "w.q_bias" && w.Checkpoint == "model.layers.{layer}.self_attn.q_proj.bias");
    }

    [Fact]
    public void GenerationIsDeterministic()
    {
        string Once() => GeneratorHarness.Run(GeneratorHarness.Compilation(GeneratorHarness.ModelFiles("Llama"))).Result
            .Results.Single().GeneratedSources.Single(s => s.HintName.EndsWith("Llama.g.cs")).SourceText.ToString();

        Assert.Equal(Once(), Once());
    }
}
