using ShadowKV.Compiler.Plans;
using ShadowKV.Models;
using ShadowKV.Runtime.Cpu;
using ShadowKV.Runtime.Cpu.Kernels;
using ShadowKV.Runtime.Engine;
using ShadowKV.Runtime.Engine.Checkpoints;
using ShadowKV.Runtime.Engine.Execution;
using ShadowKV.Runtime.Tests.Cpu;

namespace ShadowKV.Runtime.Tests.Engine;

// The built-in random Llama-3-shaped model through the plan against the independent scalar reference.
public sealed class RandomModelTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(AttentionVariant.Full)]
    [InlineData(AttentionVariant.ShadowKV)]
    public void TheTinyLlama3PlanMatchesTheScalarReference(AttentionVariant variant)
    {
        // tiny-llama3's shape with 2 layers and no llama3 RoPE scaling (ReferenceLlama computes plain θ frequencies).
        ModelConfig config = ModelConfig.Preset("tiny-llama3") with { NumHiddenLayers = 2, RopeScaling = null };
        var reference = new ReferenceLlamaConfig((int)config.HiddenSize, 2, (int)config.NumAttentionHeads, (int)config.NumKeyValueHeads,
            (int)config.HeadDim, (int)config.IntermediateSize, (int)config.VocabSize, (float)config.RmsNormEps, (float)config.RopeTheta);
        Dictionary<string, float[]> weights;
        using (SafetensorsCheckpoint checkpoint = RandomCheckpoint.Create(config, seed: 11))
        {
            weights = checkpoint.Tensors.ToDictionary(t => t.Key, t => t.Value.ToFloat32());
        }

        var options = new EngineOptions { Variant = variant, Device = DeviceKind.Cpu, MaxPromptTokens = 64, MaxNewTokens = 8, BudgetTokens = 64, OutlierChunks = 1, LocalChunks = 1 };
        using InferenceEngine engine = InferenceEngine.CreateRandom(options, CompiledModels.All, config, "tiny-llama3", 11);
        Assert.Contains(InferenceEngine.RandomModelLabel, engine.Name, StringComparison.Ordinal);

        int[] prompt = Enumerable.Range(0, 30).Select(i => (i * 37 + 5) % 512).ToArray();
        IReadOnlyList<int> generated = engine.Generate([new GenerationRequest(prompt) { MaxNewTokens = 3, StopAtEos = false }]).Sequences[0].Tokens;
        List<float[]> logits = BackendDriver.Run(engine.Backend, prompt, generated, 512);
        List<int> tokens = [.. prompt, .. generated];
        double[] expected = ReferenceLlama.Forward(reference, weights, tokens);
        double worst = 0, scale = expected.Max(Math.Abs);
        for (int i = 0; i < logits.Count; i++)
        {
            int position = prompt.Length - 1 + i;
            for (int v = 0; v < 512; v++)
            {
                worst = Math.Max(worst, Math.Abs(logits[i][v] - expected[position * 512 + v]));
            }
        }

        output.WriteLine($"{variant}: max |plan − reference| / max |logit| = {worst / scale:E2}");
        // As LlamaForwardTests: float32 against a double reference measures ≈1e-6 of the logit scale; ShadowKV at rank
        // D = 128 adds the float rounding of K·Ψ·Ψᵀ. A wrong op or buffer binding moves logits by 1e-2 or more.
        Assert.True(worst / scale < 2e-5, $"relative logit error {worst / scale}");
    }

    [Theory]
    [InlineData(AttentionVariant.Full, 128, 64)]     // one step of both prompts against one prompt per step
    [InlineData(AttentionVariant.Full, 128, 40)]     // … against steps that split prompts across steps
    [InlineData(AttentionVariant.ShadowKV, 128, 64)] // ShadowKV: a later step must leave the first slot's state alone
    public void PromptsPackedIntoSmallerPrefillStepsGenerateTheSameTokens(AttentionVariant variant, int together, int apart)
    {
        ModelConfig config = ModelConfig.Preset("tiny-llama3") with { NumHiddenLayers = 2 };
        var options = new EngineOptions
        {
            Variant = variant, Device = DeviceKind.Cpu, MaxBatch = 2, MaxPromptTokens = 64, MaxNewTokens = 8,
            BudgetTokens = 24, OutlierChunks = 1, LocalChunks = 1,
        };
        int[][] prompts = [[.. Enumerable.Range(0, 61).Select(i => (i * 37 + 5) % 512)], [.. Enumerable.Range(0, 45).Select(i => (i * 91 + 11) % 512)]];
        IReadOnlyList<int>[] Generate(int stepTokens)
        {
            using InferenceEngine engine = InferenceEngine.CreateRandom(options with { PrefillStepTokens = stepTokens }, CompiledModels.All, config, "tiny-llama3", 4);
            Assert.Equal(stepTokens, engine.Backend.Symbols["T"]);
            GenerationBatchResult result = engine.Generate([.. prompts.Select(p => new GenerationRequest(p) { MaxNewTokens = 8, StopAtEos = false })]);
            return [.. result.Sequences.Select(s => s.Tokens)];
        }

        IReadOnlyList<int>[] expected = Generate(together), actual = Generate(apart);
        Assert.Equal(expected[0], actual[0]);
        Assert.Equal(expected[1], actual[1]);
    }

    [Theory]
    [InlineData(AttentionVariant.Full)]
    [InlineData(AttentionVariant.ShadowKV)]
    public void ABatchWiderThanAPrefillStepDecodes(AttentionVariant variant)
    {
        // Decode steps carry B = 6 tokens, more than a prefill step's T = 4: the step cap is per phase.
        var options = new EngineOptions { Variant = variant, Device = DeviceKind.Cpu, MaxBatch = 6, MaxPromptTokens = 4, MaxNewTokens = 3, BudgetTokens = 8 };
        using InferenceEngine engine = InferenceEngine.CreateRandom(options, CompiledModels.All);
        GenerationBatchResult result = engine.Generate([.. Enumerable.Range(0, 6).Select(i => new GenerationRequest([1, 5 + i, 9]) { MaxNewTokens = 3, StopAtEos = false })]);
        Assert.All(result.Sequences, s => Assert.Equal(3, s.Tokens.Count));
    }

    [Fact]
    public void ShadowKVRefusesAPrefillStepSmallerThanAPrompt()
    {
        var options = new EngineOptions { Variant = AttentionVariant.ShadowKV, Device = DeviceKind.Cpu, MaxPromptTokens = 64, PrefillStepTokens = 32 };
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => InferenceEngine.CreateRandom(options, CompiledModels.All).Dispose());
        Assert.Contains("ShadowKV prefills each prompt in one step", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheBuiltInModelGeneratesDeterministically()
    {
        var options = new EngineOptions { Device = DeviceKind.Cpu, MaxPromptTokens = 32, MaxNewTokens = 8 };
        using InferenceEngine a = InferenceEngine.CreateRandom(options, CompiledModels.All);
        using InferenceEngine b = InferenceEngine.CreateRandom(options, CompiledModels.All);
        IReadOnlyList<int> prompt = a.Encode("Hello");
        Assert.Equal(1, prompt[0]);
        var request = new GenerationRequest(prompt) { MaxNewTokens = 8, StopAtEos = false };
        Assert.Equal(a.Generate([request]).Sequences[0].Tokens, b.Generate([request]).Sequences[0].Tokens);
    }
}
