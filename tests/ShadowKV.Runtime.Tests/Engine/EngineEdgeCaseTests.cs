using ShadowKV.Compiler.Plans;
using ShadowKV.Models;
using ShadowKV.Runtime.Engine;
using ShadowKV.Runtime.Engine.Checkpoints;
using ShadowKV.Runtime.Engine.Execution;

namespace ShadowKV.Runtime.Tests.Engine;

public sealed class EngineEdgeCaseTests
{
    private static int[] Greedy(InferenceEngine engine, int[] prompt, int tokens) =>
        engine.Generate([new GenerationRequest(prompt) { MaxNewTokens = tokens, StopAtEos = false }]).Sequences[0].Tokens.ToArray();

    // Prompts shorter than one chunk (3 tokens) or than the local window (20 < (nloc = 4)·8) are all exact local
    // tail: ShadowKV must then generate exactly what full attention does, and a budget far above the context changes
    // nothing either.
    [Theory]
    [InlineData(3, 64)]
    [InlineData(20, 64)]
    [InlineData(60, 4096)]
    public void ShortPromptsAndOversizedBudgetsMatchFullAttention(int promptLength, int budget)
    {
        var model = Stories260K.Require();
        int[] prompt = model.LongPrompt[..promptLength];
        using InferenceEngine full = model.Load(Stories260K.Full);
        using InferenceEngine shadow = model.Load(Stories260K.ShadowKV(budget, rank: 32, outliers: 1, local: 4));
        Assert.Equal(Greedy(full, prompt, 24), Greedy(shadow, prompt, 24));
    }

    [Fact]
    public void RankAboveHkvTimesDIsClampedAndReported()
    {
        var model = Stories260K.Require();
        using InferenceEngine engine = model.Load(Stories260K.ShadowKV(budget: 64, rank: 100));
        Assert.Equal(32, engine.Backend.Symbols["r"]);
        Assert.Contains(engine.Notes, n => n.Contains("rank 100", StringComparison.Ordinal) && n.Contains("32", StringComparison.Ordinal));
        Assert.Equal(10, Greedy(engine, model.PromptIds, 10).Length);
    }

    [Fact]
    public void RequestsThatCannotRunAreRefusedWithTheLengths()
    {
        var model = Stories260K.Require();
        using InferenceEngine engine = model.Load(Stories260K.Full with { MaxPromptTokens = 8, MaxNewTokens = 16 });
        var tooLong = Assert.Throws<ArgumentException>(() => engine.Generate([new GenerationRequest(model.PromptIds)]));
        Assert.Contains("16 tokens", tooLong.Message, StringComparison.Ordinal);
        Assert.Contains("at most 8", tooLong.Message, StringComparison.Ordinal);
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => engine.Generate([new GenerationRequest([])])).Message, StringComparison.Ordinal);
        Assert.Contains("at most 1", Assert.Throws<ArgumentException>(() => engine.Generate([new GenerationRequest([1]), new GenerationRequest([1])])).Message, StringComparison.Ordinal);
        Assert.Contains("512", Assert.Throws<ArgumentException>(() => engine.Generate([new GenerationRequest([1, 600]) { MaxNewTokens = 4 }])).Message, StringComparison.Ordinal);

        using InferenceEngine wide = model.Load(Stories260K.Full with { MaxPromptTokens = 500, MaxNewTokens = 100 });
        var beyondContext = Assert.Throws<ArgumentException>(() => wide.Generate([new GenerationRequest(model.LongPrompt.Concat(model.LongPrompt).Concat(model.LongPrompt).ToArray()) { MaxNewTokens = 100 }]));
        Assert.Contains("context is 512", beyondContext.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MaxTokensZeroGeneratesNothing()
    {
        var model = Stories260K.Require();
        using InferenceEngine engine = model.Load(Stories260K.ShadowKV(budget: 64) with { MaxBatch = 2 });
        GenerationBatchResult result = engine.Generate([new GenerationRequest(model.PromptIds) { MaxNewTokens = 0 }, new GenerationRequest(model.PromptIds) { MaxNewTokens = 3 }]);
        Assert.Empty(result.Sequences[0].Tokens);
        Assert.Equal(model.PromptGreedy100[..3], result.Sequences[1].Tokens);
    }

    [Fact]
    public void TheGpuIsRefusedClearlyAndChunkedShadowKVPrefillIsRefused()
    {
        var model = Stories260K.Require();
        // Without a GPU, asking for one names the reason; with one, ShadowKV on d = 8 is refused by the kernels' limit.
        EngineOptions options = BackendFactory.IsGpuAvailable ? Stories260K.ShadowKV(budget: 64) with { Device = DeviceKind.Gpu } : Stories260K.Full with { Device = DeviceKind.Gpu };
        var gpu = Assert.Throws<NotSupportedException>(() => InferenceEngine.Load(model.Directory, options, CompiledModels.All));
        Assert.Contains(BackendFactory.IsGpuAvailable ? "multiple of 32" : "No usable GPU", gpu.Message, StringComparison.Ordinal);

        using InferenceEngine engine = model.Load(Stories260K.ShadowKV(budget: 64));
        var half = StepBatch.Create([new SequenceChunk(0, model.PromptIds[..8], 0, model.PromptIds.Length)], 1, 512);
        Assert.Contains("one-shot", Assert.Throws<NotSupportedException>(() => engine.Backend.Forward(PhaseKind.Prefill, half)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheGeneratedLoadBindsItsOwnArchitectureAndRefusesAnother()
    {
        var model = Stories260K.Require();
        using (InferenceEngine engine = Llama.Load(model.Directory, Stories260K.Full))
        {
            Assert.Equal("Llama", engine.Model.Name);
            Assert.Equal(model.PromptGreedy100[..5], engine.Generate([new GenerationRequest(model.PromptIds) { MaxNewTokens = 5 }]).Sequences[0].Tokens);
        }

        var refused = Assert.Throws<ModelConfigException>(() => Qwen2.Load(model.Directory, Stories260K.Full));
        Assert.Contains("LlamaForCausalLM is not supported; supported architectures: Qwen2ForCausalLM", refused.Message, StringComparison.Ordinal);
    }
}
