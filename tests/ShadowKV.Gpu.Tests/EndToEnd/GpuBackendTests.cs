using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.Json;
using ShadowKV.Compiler.Plans;
using ShadowKV.Gpu.Tests.Support;
using ShadowKV.Models;
using ShadowKV.Runtime.Cuda;
using ShadowKV.Runtime.Engine;
using ShadowKV.Runtime.Engine.Execution;
using ShadowKV.Runtime.Gpu;

namespace ShadowKV.Gpu.Tests.EndToEnd;

// Whole models through GpuBackend (full attention): the plan's kernels, cuBLASLt GEMMs, arena and caches together.
public sealed class GpuBackendTests(ITestOutputHelper output)
{
    [GpuFact]
    public void Stories260K_greedy_from_bos_and_prompt_logits_match_the_reference()
    {
        string dir = SharedData.RequireDirectory("models/stories260K");
        using JsonDocument reference = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "reference.json")));
        JsonElement root = reference.RootElement;
        int[] expectedGreedy = root.GetProperty("bos_greedy_200").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        int[] prompt = root.GetProperty("prompt_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        float[] lastLogits = root.GetProperty("prompt_logits_last").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        float[] firstLogits = root.GetProperty("prompt_logits_first").EnumerateArray().Select(e => e.GetSingle()).ToArray();

        var clock = Stopwatch.StartNew();
        using GpuModel model = GpuModel.Open(dir, new EngineOptions { Variant = AttentionVariant.Full, MaxBatch = 1, MaxPromptTokens = 64, MaxNewTokens = 256 });
        Report(model.Backend, clock.Elapsed);

        clock.Restart();
        int[] greedy = [.. model.Greedy([1], expectedGreedy.Length)];
        TimeSpan generation = clock.Elapsed;
        int firstDivergence = Enumerable.Range(0, expectedGreedy.Length).FirstOrDefault(i => greedy[i] != expectedGreedy[i], -1);
        output.WriteLine($"greedy from BOS: {expectedGreedy.Length} tokens in {generation.TotalMilliseconds:F0} ms; " +
            (firstDivergence < 0 ? "all equal to the reference" : $"first divergence at index {firstDivergence} ({greedy[firstDivergence]} vs {expectedGreedy[firstDivergence]}), " +
             $"{greedy.Zip(expectedGreedy).Count(p => p.First == p.Second)}/{expectedGreedy.Length} equal"));
        // bf16 weights and activations against an f32 reference: a near-tie late in the sequence may flip; the first 50
        // tokens must agree.
        Assert.True(firstDivergence < 0 || firstDivergence >= 50, $"greedy ids diverge at index {firstDivergence}: got {string.Join(",", greedy.Take(firstDivergence + 1))}");

        // Logits: bf16 weights (2⁻⁹ relative each) and bf16 activations between ops, accumulated over 5 layers, against
        // f32. Logits here reach |8|; tolerance 0.25 absolute (≈3% of the range) and the same argmax.
        foreach ((string name, int[] tokens, float[] expected) in new[] { ("first", prompt[..1], firstLogits), ("last", prompt, lastLogits) })
        {
            float[] actual = model.Prefill(tokens);
            (double maxAbs, double relL2) = Logits.Difference(actual, expected);
            output.WriteLine($"prompt logits ({name}, {tokens.Length} tokens): max |Δ| {maxAbs:F4}, relative L2 {relL2:E2}");
            Assert.True(maxAbs <= 0.25, $"prompt logits ({name}): max |Δ| {maxAbs}");
            Assert.Equal(GpuModel.Argmax(expected), GpuModel.Argmax(actual));
        }
    }

    [GpuFact]
    public void Random_llama3_shaped_model_4k_prompt_matches_the_cpu_forward_pass()
    {
        // Llama-3 shape at small width: head_dim 128, 4:1 GQA, 2 layers, hidden 512, rope_theta 5e5.
        var llama = new RandomLlama { Hidden = 512, Ffn = 1536, Layers = 2, Hq = 4, Hkv = 1, HeadDim = 128, Vocab = 2048 }.Generate(seed: 2024);
        string dir = Path.Combine(Path.GetTempPath(), "skv-random-llama-" + Environment.ProcessId);
        llama.Save(dir);
        const int promptLength = 4096;
        var random = new Random(7);
        int[] prompt = Enumerable.Range(0, promptLength).Select(_ => random.Next(3, llama.Vocab)).ToArray();
        var options = new EngineOptions { Variant = AttentionVariant.Full, MaxBatch = 1, MaxPromptTokens = promptLength, MaxNewTokens = 16 };

        // Cold compile into a fresh cache folder, then a warm start (every phase a cache hit) from the same folder.
        string cacheFolder = Path.Combine(Path.GetTempPath(), "skv-compile-timing-" + Environment.ProcessId);
        var clock = Stopwatch.StartNew();
        using (GpuModel cold = GpuModel.Open(dir, options, new KernelCache(cacheFolder)))
        {
            Report(cold.Backend, clock.Elapsed, "cold");
            Assert.All(cold.Backend.Compilations, c => Assert.False(c.FromCache));
        }

        clock.Restart();
        using GpuModel model = GpuModel.Open(dir, options, new KernelCache(cacheFolder));
        Report(model.Backend, clock.Elapsed, "warm");
        Assert.All(model.Backend.Compilations, c => Assert.True(c.FromCache));

        clock.Restart();
        float[] gpu = model.Prefill(prompt);
        output.WriteLine($"[timing] GPU prefill of {promptLength} tokens (first, includes program build): {clock.Elapsed.TotalMilliseconds:F0} ms");
        clock.Restart();
        gpu = model.Prefill(prompt);
        output.WriteLine($"[timing] GPU prefill of {promptLength} tokens (prepared): {clock.Elapsed.TotalMilliseconds:F1} ms");
        clock.Restart();
        float[] cpu = llama.ForwardLastLogits(prompt);
        output.WriteLine($"[timing] CPU reference forward: {clock.Elapsed.TotalMilliseconds:F0} ms");

        // The GPU rounds activations to bf16 between ops (norm outputs, q/k/v after RoPE, attention output, silu·up)
        // where the reference keeps f32: ~2⁻⁹ relative per rounding, compounded over 2 layers and a 4K-token softmax.
        // Tolerance: relative L2 ≤ 3e-2 over the vocab, and the GPU's top-1 among the reference's top 3.
        (double maxAbs, double relL2) = Logits.Difference(gpu, cpu);
        int[] top = Logits.TopK(cpu, 3);
        output.WriteLine($"last-position logits: max |Δ| {maxAbs:F4}, relative L2 {relL2:E2}, GPU top-1 {GpuModel.Argmax(gpu)}, CPU top-3 [{string.Join(",", top)}]");
        Assert.True(relL2 <= 3e-2, $"relative L2 {relL2}");
        Assert.Contains(GpuModel.Argmax(gpu), top);

        // Decode continues from the prefilled cache: 8 greedy steps run and stay finite (token ids checked by stories260K).
        int next = GpuModel.Argmax(gpu);
        clock.Restart();
        for (int i = 0; i < 8; i++)
        {
            float[] logits = model.Decode(next, promptLength + i, promptLength);
            Assert.All(logits, v => Assert.True(float.IsFinite(v)));
            next = GpuModel.Argmax(logits);
        }

        output.WriteLine($"[timing] 8 decode steps at 4K context: {clock.Elapsed.TotalMilliseconds:F1} ms");
        Directory.Delete(dir, recursive: true);
    }

    [GpuFact]
    public void Admission_refuses_a_request_that_does_not_fit_before_allocating()
    {
        string dir = SharedData.RequireDirectory("models/stories260K");
        var huge = new EngineOptions { Variant = AttentionVariant.Full, MaxBatch = 4096, MaxPromptTokens = 131072, MaxNewTokens = 1024 };
        (long free, _) = TestGpu.Device.MemoryInfo();
        var error = Assert.Throws<AdmissionException>(() => GpuModel.Open(dir, huge).Dispose());
        (long freeAfter, _) = TestGpu.Device.MemoryInfo();
        output.WriteLine(error.Message);
        Assert.True(Math.Abs(free - freeAfter) < (256L << 20), $"free memory moved from {free} to {freeAfter}");
    }

    [GpuFact]
    public void A_batch_beyond_a_kernels_grid_limit_is_refused_before_allocating()
    {
        // decode_attention's grid z is the batch; CUDA allows 65535 in y and z.
        var options = new EngineOptions { Variant = AttentionVariant.Full, Device = DeviceKind.Gpu, MaxBatch = 70_000, MaxPromptTokens = 4, MaxNewTokens = 1 };
        (long free, _) = TestGpu.Device.MemoryInfo();
        var error = Assert.Throws<NotSupportedException>(() => InferenceEngine.CreateRandom(options, CompiledModels.All).Dispose());
        (long freeAfter, _) = TestGpu.Device.MemoryInfo();
        output.WriteLine(error.Message);
        Assert.Matches("exceeds grid dimension [yz] \\(65535\\)", error.Message);
        Assert.True(Math.Abs(free - freeAfter) < (256L << 20), $"free memory moved from {free} to {freeAfter}");
    }

    [GpuFact]
    public void Built_in_random_model_runs_on_the_gpu_with_the_cpu_backends_weights()
    {
        // The built-in model's weights are a bf16 checkpoint in memory (RandomCheckpoint), so both backends hold the
        // same values: the GPU and CPU logits differ only by bf16 activations (tiny-llama3: 4 layers, head_dim 128).
        var options = new EngineOptions { Variant = AttentionVariant.Full, Device = DeviceKind.Gpu, MaxBatch = 1, MaxPromptTokens = 300, MaxNewTokens = 4 };
        var clock = Stopwatch.StartNew();
        using InferenceEngine gpu = InferenceEngine.CreateRandom(options, CompiledModels.All, seed: 7);
        output.WriteLine($"[timing] built-in model on the GPU in {clock.Elapsed.TotalMilliseconds:F0} ms ({gpu.Name})");
        using InferenceEngine cpu = InferenceEngine.CreateRandom(options with { Device = DeviceKind.Cpu }, CompiledModels.All, seed: 7);
        Assert.IsType<GpuBackend>(gpu.Backend);

        int vocab = (int)gpu.Config.VocabSize;
        int[] prompt = Enumerable.Range(0, 257).Select(i => 3 + (i * 7919) % (vocab - 3)).ToArray();
        StepBatch Prefill() => StepBatch.Create([new SequenceChunk(0, prompt, 0, prompt.Length)], 1, prompt.Length + 1);
        float[] expected = cpu.Backend.Forward(PhaseKind.Prefill, Prefill())[..vocab];
        float[] actual = gpu.Backend.Forward(PhaseKind.Prefill, Prefill())[..vocab];
        (double maxAbs, double relL2) = Logits.Difference(actual, expected);
        int top = GpuModel.Argmax(expected), chosen = GpuModel.Argmax(actual);
        output.WriteLine($"257-token prompt, last row: relative L2 {relL2:E2}, max |Δ| {maxAbs:F4}; top-1 CPU {top} ({expected[top]:F4}), " +
            $"GPU {chosen} (CPU logit {expected[chosen]:F4})");
        // Same weights; the GPU rounds activations to bf16 between ops (2⁻⁹ relative each) over 4 layers: ≤ 2e-2.
        Assert.True(relL2 <= 2e-2, $"relative L2 {relL2} between the GPU and CPU backends");
        // A random model's top logits are often near-tied; where the CPU's best leads its runner-up by more than both
        // backends' largest logit difference could close, the GPU must pick it too.
        float runnerUp = expected.Where((_, v) => v != top).Max();
        if (expected[top] - runnerUp > 2 * maxAbs)
        {
            Assert.Equal(top, chosen);
        }
    }

    private void Report(GpuBackend backend, TimeSpan create, string label = "")
    {
        foreach (PhaseCompilation c in backend.Compilations)
        {
            output.WriteLine($"[compile{(label.Length > 0 ? " " + label : "")}] {c.Phase}: {c.NameExpressions.Count} kernels, " +
                $"{(c.FromCache ? "cache hit" : "NVRTC")} {c.Elapsed.TotalMilliseconds:F0} ms");
            Console.WriteLine($"[compile{(label.Length > 0 ? " " + label : "")}] {c.Phase}: {(c.FromCache ? "cache hit" : "NVRTC")} {c.Elapsed.TotalMilliseconds:F0} ms ({string.Join(" ", c.NameExpressions)})");
        }

        output.WriteLine($"[timing] backend created in {create.TotalMilliseconds:F0} ms; device {AdmissionControl.Format(backend.Footprint.DeviceBytes)}, pinned {AdmissionControl.Format(backend.Footprint.PinnedHostBytes)}");
        foreach (string note in backend.Notes)
        {
            output.WriteLine("note: " + note);
        }
    }
}
