using System;
using System.Collections.Generic;
using System.Linq;
using ShadowKV.Compiler;
using ShadowKV.Compiler.Plans;
using ShadowKV.Gpu.Tests.Support;
using ShadowKV.Models;
using ShadowKV.Runtime.Engine;
using ShadowKV.Runtime.Engine.Execution;
using ShadowKV.Runtime.Gpu;

namespace ShadowKV.Gpu.Tests.EndToEnd;

// Decode steps replayed from CUDA graphs against the same steps enqueued kernel by kernel: the graph holds the same
// launches with the same arguments, so greedy ids are identical (not merely close), for both attention variants and
// a ragged batch whose sequences finish prefill at different lengths.
public sealed class DecodeGraphTests(ITestOutputHelper output)
{
    [GpuTheory]
    [InlineData(AttentionVariant.Full, null)]
    [InlineData(AttentionVariant.ShadowKV, ValuePlacement.Host)]
    [InlineData(AttentionVariant.ShadowKV, ValuePlacement.Gpu)]
    public void Graph_replay_generates_the_same_tokens_as_eager_decode(AttentionVariant variant, ValuePlacement? values)
    {
        // tiny-llama3 (4 layers, head_dim 128, 4:1 GQA). ShadowKV: 8-token chunks, a 128-token budget over ~400-token
        // prompts, so selection changes from step to step and misses are fetched and rebuilt inside the graph.
        var options = new EngineOptions
        {
            Variant = variant, Device = DeviceKind.Gpu, MaxBatch = 2, MaxPromptTokens = 448, MaxNewTokens = 40,
            BudgetTokens = 128, OutlierChunks = 2, LocalChunks = 2, Values = values,
        };
        int[][] prompts = [Prompts.Random(448, seed: 1, vocab: 256), Prompts.Random(391, seed: 2, vocab: 256)];
        GenerationRequest[] requests = [.. prompts.Select(p => new GenerationRequest(p) { MaxNewTokens = 40, StopAtEos = false })];

        (GenerationBatchResult eager, _) = Run(options with { DecodeGraphs = false }, requests);
        (GenerationBatchResult replayed, long replays) = Run(options, requests);

        output.WriteLine($"{variant} {values}: eager {eager.DecodeTokensPerSecond:F0} tok/s, graphs {replayed.DecodeTokensPerSecond:F0} tok/s " +
            $"({replays} replays); notes: {string.Join(" | ", replayed.Notes)}");
        Assert.True(replays >= 39, $"only {replays} of 39 decode steps were replayed from a graph; notes: {string.Join(" | ", replayed.Notes)}");
        for (int i = 0; i < requests.Length; i++)
        {
            Assert.Equal(eager.Sequences[i].Tokens, replayed.Sequences[i].Tokens);
        }
    }

    [GpuFact]
    public void Profiled_decode_times_every_kernel_and_gemm_and_changes_no_token()
    {
        var options = new EngineOptions
        {
            Variant = AttentionVariant.ShadowKV, Device = DeviceKind.Gpu, MaxBatch = 1, MaxPromptTokens = 448, MaxNewTokens = 12,
            BudgetTokens = 128, OutlierChunks = 2, LocalChunks = 2,
        };
        GenerationRequest[] requests = [new GenerationRequest(Prompts.Random(448, seed: 1, vocab: 256)) { MaxNewTokens = 12, StopAtEos = false }];
        (GenerationBatchResult plain, _) = Run(options, requests);
        using InferenceEngine engine = InferenceEngine.CreateRandom(options with { ProfileDecode = true }, CompiledModels.All, seed: 3);
        GenerationBatchResult profiled = engine.Generate(requests);
        IReadOnlyList<ProfileEntry> profile = ((GpuBackend)engine.Backend).DecodeProfile;

        foreach (ProfileEntry entry in profile.Take(12))
        {
            output.WriteLine($"{entry.Label}: {entry.MillisecondsPerStep:F3} ms per step ({entry.Launches} launches over {entry.Steps} steps)");
        }

        Assert.Equal(plain.Sequences[0].Tokens, profiled.Sequences[0].Tokens);
        Assert.All(profile, e => Assert.Equal(11, e.Steps)); // 12 tokens: the first from prefill, 11 decode steps
        Assert.Contains(profile, e => e.Label.EndsWith("sparse_attention", StringComparison.Ordinal));
        Assert.Contains(profile, e => e.Label == "gemm w.lm_head");
        Assert.All(profile, e => Assert.True(e.Milliseconds > 0 && double.IsFinite(e.Milliseconds), $"{e.Label}: {e.Milliseconds} ms"));
    }

    private static (GenerationBatchResult Result, long Replays) Run(EngineOptions options, GenerationRequest[] requests)
    {
        using InferenceEngine engine = InferenceEngine.CreateRandom(options, CompiledModels.All, seed: 3);
        GenerationBatchResult result = engine.Generate(requests);
        return (result, ((GpuBackend)engine.Backend).GraphReplays);
    }
}
