using System;
using System.IO;
using System.Linq;
using ShadowKV.Compiler;
using ShadowKV.Compiler.Plans;
using ShadowKV.Gpu.Tests.Support;
using ShadowKV.Models;
using ShadowKV.Runtime.Engine;
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

    [GpuTheory]
    [InlineData(ValuePlacement.Host)]
    [InlineData(ValuePlacement.Gpu)]
    public void ShadowKV_ragged_batch_of_two_matches_full_attention_slot_by_slot(ValuePlacement values)
    {
        // Two sequences of different lengths share the engine: every per-slot region (caches, landmarks, working
        // slots, selection state, offloaded values) must be addressed by slot. The built-in tiny-llama3 (4 layers,
        // head_dim 128, Hkv 1); the budget covers both prompts and rank = Hkv·d, so ShadowKV equals full attention up
        // to bf16 rounding (as in the single-sequence test above).
        int[][] prompts = [Prompts.Random(300, seed: 4, vocab: 512), Prompts.Random(237, seed: 5, vocab: 512)];
        var full = new EngineOptions { Variant = AttentionVariant.Full, Device = DeviceKind.Gpu, MaxBatch = 2, MaxPromptTokens = 300, MaxNewTokens = 8, PrefillStepTokens = 600 };
        var sparse = full with { Variant = AttentionVariant.ShadowKV, BudgetTokens = 1024, Rank = 128, OutlierChunks = 2, LocalChunks = 2, Values = values };
        using InferenceEngine reference = InferenceEngine.CreateRandom(full, CompiledModels.All, seed: 9);
        using InferenceEngine model = InferenceEngine.CreateRandom(sparse, CompiledModels.All, seed: 9);
        int vocab = (int)reference.Config.VocabSize, capacity = 300 + 8;
        foreach (IModelBackend backend in new[] { reference.Backend, model.Backend })
        {
            backend.ResetSlot(0);
            backend.ResetSlot(1);
        }

        // Both prompts in one prefill step (PrefillStepTokens 600), each whole as ShadowKV needs.
        StepBatch prefill = StepBatch.Create([new SequenceChunk(0, prompts[0], 0, prompts[0].Length), new SequenceChunk(1, prompts[1], 0, prompts[1].Length)], 2, capacity);
        float[] expected = reference.Backend.Forward(PhaseKind.Prefill, prefill), actual = model.Backend.Forward(PhaseKind.Prefill, prefill);
        for (int step = 0; step <= 4; step++)
        {
            var chunks = new List<SequenceChunk>();
            for (int slot = 0; slot < 2; slot++)
            {
                Check($"slot {slot} {(step == 0 ? "prefill" : $"decode step {step}")}", actual.AsSpan(slot * vocab, vocab).ToArray(), expected.AsSpan(slot * vocab, vocab).ToArray());
                int next = GpuModel.Argmax(expected.AsSpan(slot * vocab, vocab));
                chunks.Add(new SequenceChunk(slot, [next], prompts[slot].Length + step, prompts[slot].Length));
            }

            if (step < 4)
            {
                StepBatch decode = StepBatch.Create(chunks, 2, capacity);
                expected = reference.Backend.Forward(PhaseKind.Decode, decode);
                actual = model.Backend.Forward(PhaseKind.Decode, decode);
            }
        }
    }

    // Both backends round to bf16 between ops; ShadowKV adds bf16 caches for local/outlier/working keys and values and
    // keys rebuilt from the bf16 low-rank factor A (≈2⁻⁹ relative per coefficient) with RoPE re-applied, where full
    // attention reads bf16 post-RoPE keys. Those are bf16-level differences in the keys, compounded over a few layers:
    // relative L2 ≤ 2e-2 over the vocab, and the same greedy token wherever full attention's top-1 leads its runner-up
    // by more than the largest logit difference could close (random models have near-ties).
    private void Check(string what, float[] actual, float[] expected)
    {
        (double maxAbs, double relL2) = Logits.Difference(actual, expected);
        int[] top = Logits.TopK(expected, 2);
        output.WriteLine($"{what}: max |Δ| {maxAbs:F4}, relative L2 {relL2:E2}, ShadowKV top-1 {GpuModel.Argmax(actual)}, " +
            $"full top-2 [{string.Join(",", top)}] (gap {expected[top[0]] - expected[top[1]]:F4})");
        Assert.All(actual, v => Assert.True(float.IsFinite(v), $"{what}: non-finite logit"));
        Assert.True(relL2 <= 2e-2, $"{what}: relative L2 {relL2}");
        if (expected[top[0]] - expected[top[1]] > 2 * maxAbs)
        {
            Assert.Equal(top[0], GpuModel.Argmax(actual));
        }
    }
}
