using System;
using System.IO;
using System.Linq;
using ShadowKV.Compiler;
using ShadowKV.Compiler.Plans;
using ShadowKV.Gpu.Tests.Support;
using ShadowKV.Runtime.Engine.Execution;

namespace ShadowKV.Gpu.Tests.EndToEnd;

// The ShadowKV variant end to end through GpuBackend (prefill: low-rank keys, landmarks, outliers, value store; decode:
// landmark scores, top-k, selection diff, rebuilt keys, fetched values, sparse attention), against the full-attention
// GpuBackend on the same weights. With a budget that covers every landmark and rank = Hkv·d the sparse step attends to
// every prompt key, so the two must agree up to rounding.
public sealed class ShadowKVEndToEndTests(ITestOutputHelper output)
{
    [GpuTheory]
    [InlineData(ValuePlacement.Host)] // value store in mapped pinned host memory (zero-copy fetch)
    [InlineData(ValuePlacement.Gpu)]
    public void ShadowKV_with_a_budget_covering_the_prompt_matches_full_attention(ValuePlacement values)
    {
        // Llama-3 shape at small width (as GpuBackendTests): head_dim 128, 4:1 GQA, 2 layers, hidden 512.
        var llama = new RandomLlama { Hidden = 512, Ffn = 1536, Layers = 2, Hq = 4, Hkv = 1, HeadDim = 128, Vocab = 2048 }.Generate(seed: 2024);
        string dir = Path.Combine(Path.GetTempPath(), $"skv-random-llama-shadowkv-{values}-{Environment.ProcessId}");
        llama.Save(dir);
        try
        {
            const int promptLength = 512, steps = 4;
            var random = new Random(11);
            int[] prompt = Enumerable.Range(0, promptLength).Select(_ => random.Next(3, llama.Vocab)).ToArray();
            var full = new EngineOptions { Variant = AttentionVariant.Full, MaxBatch = 1, MaxPromptTokens = promptLength, MaxNewTokens = 16 };
            // 512 tokens, c = 8: 64 chunks, 4 local → 60, 4 outliers → 56 landmarks; a budget of 1024 tokens = 128 chunks
            // selects them all. Rank = Hkv·d: the low-rank factorisation is exact up to the bf16 A factor.
            var sparse = full with
            {
                Variant = AttentionVariant.ShadowKV,
                BudgetTokens = 1024,
                Rank = llama.Hkv * llama.HeadDim,
                OutlierChunks = 4,
                LocalChunks = 4,
                Values = values,
            };
            using GpuModel reference = GpuModel.Open(dir, full);
            using GpuModel model = GpuModel.Open(dir, sparse);
            foreach (string note in model.Backend.Notes)
            {
                output.WriteLine("note: " + note);
            }

            float[] expected = reference.Prefill(prompt), actual = model.Prefill(prompt);
            Check("prefill", actual, expected);
            for (int i = 0; i < steps; i++)
            {
                int next = GpuModel.Argmax(expected);
                expected = reference.Decode(next, promptLength + i, promptLength);
                actual = model.Decode(next, promptLength + i, promptLength);
                Check($"decode step {i + 1}", actual, expected);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // Both backends round to bf16 between ops; ShadowKV adds bf16 caches for local/outlier/working keys and values and
    // keys rebuilt from the bf16 low-rank factor A (≈2⁻⁹ relative per coefficient) with RoPE re-applied, where full
    // attention reads bf16 post-RoPE keys. Those are bf16-level differences in the keys, compounded over 2 layers:
    // relative L2 ≤ 2e-2 over the vocab, and the same greedy token.
    private void Check(string what, float[] actual, float[] expected)
    {
        (double maxAbs, double relL2) = Logits.Difference(actual, expected);
        int[] top = Logits.TopK(expected, 2);
        output.WriteLine($"{what}: max |Δ| {maxAbs:F4}, relative L2 {relL2:E2}, ShadowKV top-1 {GpuModel.Argmax(actual)}, " +
            $"full top-2 [{string.Join(",", top)}] (gap {expected[top[0]] - expected[top[1]]:F4})");
        Assert.All(actual, v => Assert.True(float.IsFinite(v), $"{what}: non-finite logit"));
        Assert.True(relL2 <= 2e-2, $"{what}: relative L2 {relL2}");
        Assert.Equal(top[0], GpuModel.Argmax(actual));
    }
}
