using ShadowKV.Compiler.Plans;
using ShadowKV.Runtime.Cpu.Kernels;
using ShadowKV.Runtime.Engine;
using ShadowKV.Runtime.Engine.Execution;

namespace ShadowKV.Runtime.Tests.Engine;

// End to end through the compiled plans on the CPU backend against Hugging Face transformers' outputs.
public sealed class Stories260KTests(ITestOutputHelper output)
{
    [Fact]
    public void GreedyFromBosReproducesTheReference()
    {
        var model = Stories260K.Require();
        using InferenceEngine engine = model.Load(Stories260K.Full);
        GenerationBatchResult result = engine.Generate([new GenerationRequest([1]) { MaxNewTokens = 200, StopAtEos = false }]);
        Assert.Equal(model.BosGreedy200, result.Sequences[0].Tokens);
    }

    [Fact]
    public void PromptIdsContinuationAndLogitsMatchTheReference()
    {
        var model = Stories260K.Require();
        using InferenceEngine engine = model.Load(Stories260K.Full);
        Assert.Equal(model.PromptIds, engine.Encode(model.PromptText));

        GenerationBatchResult result = engine.Generate([new GenerationRequest(model.PromptIds) { MaxNewTokens = 100, StopAtEos = false }]);
        Assert.Equal(model.PromptGreedy100, result.Sequences[0].Tokens);
        Assert.Equal(model.PromptGreedyText, result.Sequences[0].Text);

        // Logits at the first prompt position come from a 1-token prefill (they depend on BOS alone).
        float[] first = BackendDriver.Run(engine.Backend, model.PromptIds[..1], [], 512)[0];
        float[] last = BackendDriver.Run(engine.Backend, model.PromptIds, [], 512)[0];
        double errorFirst = first.Zip(model.PromptLogitsFirst).Max(p => Math.Abs(p.First - p.Second));
        double errorLast = last.Zip(model.PromptLogitsLast).Max(p => Math.Abs(p.First - p.Second));
        output.WriteLine($"max |logit − HF| first = {errorFirst:E2}, last = {errorLast:E2}");

        // reference.json stores logits rounded to 5 decimals (±5e-6); float32 CPU vs PyTorch float32 differ by summation
        // order, ≈1e-6 relative over 5 layers of 64-wide dots on logits of magnitude ≤ 10. 1e-4 is 10× that sum, while a
        // real defect (RoPE pairing, GQA mapping, norm eps, tied head) moves logits by 1e-2 or more.
        Assert.True(errorFirst < 1e-4, $"first-position logits differ by {errorFirst}");
        Assert.True(errorLast < 1e-4, $"last-position logits differ by {errorLast}");
    }

    // Budget ≥ context, rank = D = Hkv·d = 32 (stories260K: d = 8, Hkv = 4): every chunk is selected, keys rebuild
    // exactly (up to float rounding), so ShadowKV must equal full attention.
    [Fact]
    public void ShadowKVWithACoveringBudgetEqualsFullAttention()
    {
        var model = Stories260K.Require();
        int[] prompt = model.LongPrompt;
        using InferenceEngine full = model.Load(Stories260K.Full);
        using InferenceEngine shadow = model.Load(Stories260K.ShadowKV(budget: 256));
        List<float[]> reference = BackendDriver.Run(full.Backend, prompt, model.BosGreedy200[150..190], 512);
        List<float[]> sparse = BackendDriver.Run(shadow.Backend, prompt, model.BosGreedy200[150..190], 512);
        double difference = BackendDriver.MaxAbsDifference(reference, sparse);
        output.WriteLine($"covering budget: max |ShadowKV − full| logit = {difference:E2} over {reference.Count} steps");

        // Rebuilt keys are K·Ψ·Ψᵀ with an orthonormal Ψ from a float32 gram: ≈1e-6 relative per key; through 5 layers
        // the logits (magnitude ≤ 10) move ≈1e-5. A wrong chunk, slot, RoPE position or missing region moves them by 1e-1.
        Assert.True(difference < 1e-3, $"ShadowKV differs from full attention by {difference}");
        Assert.Equal(model.BosGreedy200[150..191], reference.Select(l => CpuKernels.Argmax(l)).ToArray());
    }

    // A sparse budget (4 chunks of 8 of the ≈14 prompt chunks) and rank 16 < D: not exact, but close. Teacher-forced on
    // full attention's greedy tokens so every step compares the same context.
    [Fact]
    public void ShadowKVWithASmallBudgetMostlyAgreesWithFullAttention()
    {
        var model = Stories260K.Require();
        int[] prompt = model.LongPrompt;
        int[] fed = model.BosGreedy200[150..190];
        using InferenceEngine full = model.Load(Stories260K.Full);
        using InferenceEngine shadow = model.Load(Stories260K.ShadowKV(budget: 32, rank: 16, outliers: 1, local: 2));
        List<float[]> reference = BackendDriver.Run(full.Backend, prompt, fed, 512);
        List<float[]> sparse = BackendDriver.Run(shadow.Backend, prompt, fed, 512);
        double agreement = reference.Zip(sparse).Count(p => CpuKernels.Argmax(p.First) == CpuKernels.Argmax(p.Second)) / (double)reference.Count;
        double difference = BackendDriver.MaxAbsDifference(reference, sparse);
        output.WriteLine($"budget 32 tokens, rank 16: top-1 agreement {agreement:P1}, max |logit diff| {difference:F3} over {reference.Count} steps");
        Assert.True(agreement >= 0.5, $"top-1 agreement {agreement}");
        Assert.True(difference > 0, "a sparse budget that changes nothing suggests the selection is not used");
    }

    [Theory]
    [InlineData(AttentionVariant.Full)]
    [InlineData(AttentionVariant.ShadowKV)]
    public void ARaggedBatchGeneratesWhatEachPromptGeneratesAlone(AttentionVariant variant)
    {
        var model = Stories260K.Require();
        int[][] prompts = [model.PromptIds, model.PromptIds[..3], model.LongPrompt[..60]];
        EngineOptions options = (variant == AttentionVariant.Full ? Stories260K.Full : Stories260K.ShadowKV(budget: 32, rank: 16, outliers: 1, local: 2));
        using InferenceEngine batched = model.Load(options with { MaxBatch = 3 });
        GenerationBatchResult together = batched.Generate(prompts.Select((p, i) => new GenerationRequest(p) { MaxNewTokens = 12 + 4 * i, StopAtEos = false }).ToArray());
        using InferenceEngine single = model.Load(options);
        for (int i = 0; i < prompts.Length; i++)
        {
            GenerationBatchResult alone = single.Generate([new GenerationRequest(prompts[i]) { MaxNewTokens = 12 + 4 * i, StopAtEos = false }]);
            Assert.Equal(alone.Sequences[0].Tokens, together.Sequences[i].Tokens);
        }
    }

    [Fact]
    public void ChunkedPrefillEqualsOneShotPrefill()
    {
        var model = Stories260K.Require();
        int[][] prompts = [model.LongPrompt, model.PromptIds];
        using InferenceEngine oneShot = model.Load(Stories260K.Full with { MaxBatch = 2 });
        using InferenceEngine chunked = model.Load(Stories260K.Full with { MaxBatch = 2, PrefillChunkTokens = 7 });
        GenerationRequest[] requests = prompts.Select(p => new GenerationRequest(p) { MaxNewTokens = 20, StopAtEos = false }).ToArray();
        GenerationBatchResult a = oneShot.Generate(requests), b = chunked.Generate(requests);
        Assert.Equal(a.Sequences.Select(s => s.Tokens), b.Sequences.Select(s => s.Tokens));

        List<float[]> whole = BackendDriver.Run(oneShot.Backend, model.LongPrompt, [], 512, capacity: 512);
        chunked.Backend.ResetSlot(0);
        float[] last = [];
        for (int start = 0; start < model.LongPrompt.Length; start += 7)
        {
            int[] piece = model.LongPrompt[start..Math.Min(start + 7, model.LongPrompt.Length)];
            last = chunked.Backend.Forward(PhaseKind.Prefill, StepBatch.Create([new SequenceChunk(0, piece, start, model.LongPrompt.Length)], 2, 512))[..512];
        }

        double difference = whole[0].Zip(last).Max(p => Math.Abs(p.First - p.Second));
        output.WriteLine($"chunked (7) vs one-shot prefill: max |logit diff| {difference:E2}");
        Assert.True(difference < 1e-4, $"chunked prefill differs by {difference}");
    }
}
