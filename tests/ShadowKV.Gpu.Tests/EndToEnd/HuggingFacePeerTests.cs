using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.Json;
using ShadowKV.Compiler.Plans;
using ShadowKV.Gpu.Tests.Support;
using ShadowKV.Runtime.Engine;
using ShadowKV.Runtime.Engine.Checkpoints;
using ShadowKV.Runtime.Engine.Execution;

namespace ShadowKV.Gpu.Tests.EndToEnd;

// Peer check: a seeded Llama-3-shaped model built and run by Hugging Face transformers (peer/hf_reference.py, bf16,
// sdpa), loaded from its save_pretrained directory through ModelDirectory/CheckpointBinder and run by GpuBackend.
// Our prefill plan returns only each sequence's last-row logits, so position p is checked by a prefill of the prefix
// prompt[0..p]: causal attention makes its last row exactly HF's row p (same weights, same prefix).
//
// Two peer models. The random one exercises every vocabulary row, but its next-token distribution is flat: many
// positions have near-tied top-2 logits that any bf16 engine swaps (transformers' own bf16 run agrees with its float32
// run on ~97%). The trained one (the same shape after a few hundred steps on haystack text) is decisive the way a real
// language model is, and is where the 99% top-1 bar applies.
public sealed class HuggingFacePeerTests(ITestOutputHelper output)
{
    private const int PromptTokens = 2048;

    [GpuFact]
    public void Random_llama_logits_match_transformers_at_every_position()
    {
        PeerComparison result = Compare("--kind random");

        AssertLogitTolerances(result);
        // Near-ties make 99% unreachable for any bf16 engine here: transformers' own bf16 run is the yardstick, and
        // ours must agree with the exact answer about as often (within 0.5%, ten of 2048 positions: which near-ties a
        // bf16 engine swaps is rounding luck).
        Assert.True(result.AgreementWithExact >= result.PeerAgreementWithExact - 0.005,
            $"top-1 agreement with transformers float32 {result.AgreementWithExact:P2} is below transformers' own bf16 run ({result.PeerAgreementWithExact:P2})");
    }

    [GpuFact]
    public void Trained_llama_agrees_with_transformers_on_top1_at_99_percent_of_positions()
    {
        string text = SharedData.RequireFile(Path.Combine("data", "haystack", "pg_essays.txt"));
        PeerComparison result = Compare($"--kind trained --text \"{text}\" --train-steps 600 --train-bytes 16384");

        // Training on a GPU is not bit-reproducible: first make sure this run's model is decisive (transformers' own
        // bf16 run agrees with its float32 run), so a poorly trained peer is not blamed on the engine.
        Assert.True(result.PeerAgreementWithExact >= 0.99,
            $"the trained peer model is not decisive this run (transformers bf16 vs float32 top-1 {result.PeerAgreementWithExact:P2}); training, not the engine, fell short");
        AssertLogitTolerances(result);
        Assert.True(result.AgreementWithExact >= 0.99,
            $"top-1 agreement with transformers float32 is {result.AgreementWithExact:P2} over {result.Positions.Count} positions (transformers' own bf16 run: {result.PeerAgreementWithExact:P2}); the bar is 99%");
        Assert.True(result.AgreementWithPeer >= 0.99,
            $"top-1 agreement with transformers bf16 is {result.AgreementWithPeer:P2} over {result.Positions.Count} positions; the bar is 99%");
    }

    private void AssertLogitTolerances(PeerComparison result)
    {
        // Against exact math on the same bf16 weights (transformers in float32), only our own roundings count: bf16 GEMM
        // inputs and attention probabilities (~2⁻⁹ relative each) over an f32 residual stream. Typical positions sit
        // near 1e-3 (trained) to 1e-2 (random): the median must stay ≤ 1e-2 and the 99th percentile ≤ 3e-2. A few
        // positions are ill-conditioned (a very sharp attention row turns 2⁻⁹ input errors into percent-level logit
        // changes; transformers' own bf16 run strays there too, at other positions), so single positions may reach
        // 1e-1. A wrong op, mask or buffer moves logits by O(1), far beyond all three.
        double[] sorted = [.. result.Positions.Select(x => x.RelL2).Order()];
        double median = sorted[sorted.Length / 2], p99 = sorted[(int)Math.Ceiling(0.99 * sorted.Length) - 1];
        double[] peerSorted = [.. result.Positions.Select(x => x.PeerSelfRelL2).Order()];
        output.WriteLine($"relative L2 vs float32 math over {sorted.Length} positions: median {median:E2}, 99th percentile {p99:E2}, worst {sorted[^1]:E2} " +
            $"(transformers' own bf16 run: median {peerSorted[peerSorted.Length / 2]:E2}, 99th percentile {peerSorted[(int)Math.Ceiling(0.99 * peerSorted.Length) - 1]:E2}, worst {peerSorted[^1]:E2})");
        Assert.True(median <= 1e-2, $"median relative L2 {median} against float32 math");
        Assert.True(p99 <= 3e-2, $"99th-percentile relative L2 {p99} against float32 math");
        Assert.All(result.Positions, x => Assert.True(x.RelL2 <= 1e-1,
            $"position {x.Position}: relative L2 {x.RelL2} against float32 math (max |Δ| {x.MaxAbs}); transformers' bf16 run is {x.PeerSelfRelL2} from it"));
        // Against transformers' bf16 run the distance is bounded by the two runs' own errors (triangle inequality), so
        // it is reported above rather than asserted: the float32 run is the yardstick for logits.
    }

    private sealed record PositionResult(int Position, double RelL2, double PeerRelL2, double PeerSelfRelL2, double MaxAbs);

    private sealed record PeerComparison(
        IReadOnlyList<PositionResult> Positions, double AgreementWithExact, double AgreementWithPeer, double PeerAgreementWithExact);

    /// <summary>Runs hf_reference.py with <paramref name="peerArguments"/>, then our GPU engine on every prefix.</summary>
    private PeerComparison Compare(string peerArguments)
    {
        string script = Path.Combine(AppContext.BaseDirectory, "peer", "hf_reference.py");
        if (!File.Exists(script))
        {
            Assert.Skip($"peer script not found at {script}");
        }

        string python = Environment.GetEnvironmentVariable("SKV_PYTHON") ?? "python3";
        if (Run(python, "-c \"import torch, transformers, safetensors\"", out string probe) != 0)
        {
            Assert.Skip($"python3 with torch, transformers and safetensors is not available: {probe.Trim()}");
        }

        string outDir = Path.Combine(Path.GetTempPath(), $"skv-hf-peer-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(outDir);
        try
        {
            return CompareIn(outDir, python, script, peerArguments);
        }
        finally
        {
            Directory.Delete(outDir, recursive: true);
        }
    }

    private PeerComparison CompareIn(string outDir, string python, string script, string peerArguments)
    {
        var clock = Stopwatch.StartNew();
        // Every position: top-1 rates need the whole prompt, not a sample.
        int status = Run(python, $"\"{script}\" \"{outDir}\" {peerArguments} --tokens {PromptTokens} --positions {PromptTokens}", out string log);
        output.WriteLine(log.Trim());
        Assert.True(status == 0, $"hf_reference.py failed ({status}): {log}");
        output.WriteLine($"[timing] transformers reference: {clock.Elapsed.TotalMilliseconds:F0} ms");

        using JsonDocument reference = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "reference.json")));
        int[] prompt = reference.RootElement.GetProperty("prompt_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        int[] positions = reference.RootElement.GetProperty("positions").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        int vocab = reference.RootElement.GetProperty("vocab").GetInt32();
        float[] peer = ReadFloats(Path.Combine(outDir, "logits.bin"));
        float[] exact = ReadFloats(Path.Combine(outDir, "logits_f32.bin"));
        Assert.Equal(positions.Length * vocab, peer.Length);
        Assert.Equal(positions.Length * vocab, exact.Length);

        using GpuModel model = GpuModel.Open(Path.Combine(outDir, "model"),
            new EngineOptions { Variant = AttentionVariant.Full, MaxBatch = 1, MaxPromptTokens = prompt.Length, MaxNewTokens = 1 });
        clock.Restart();
        int agreePeer = 0, agreeExact = 0, peerAgreesExact = 0;
        var results = new List<PositionResult>();
        for (int i = 0; i < positions.Length; i++)
        {
            int p = positions[i];
            float[] ours = model.Prefill(prompt[..(p + 1)]);
            ReadOnlySpan<float> theirs = peer.AsSpan(i * vocab, vocab);
            ReadOnlySpan<float> truth = exact.AsSpan(i * vocab, vocab);
            (double maxAbs, double relL2) = Logits.Difference(ours, truth);
            (_, double peerRelL2) = Logits.Difference(ours, theirs);
            (_, double peerSelfRelL2) = Logits.Difference(theirs, truth);
            int top = GpuModel.Argmax(ours), truthTop = GpuModel.Argmax(truth);
            agreePeer += top == GpuModel.Argmax(theirs) ? 1 : 0;
            agreeExact += top == truthTop ? 1 : 0;
            peerAgreesExact += GpuModel.Argmax(theirs) == truthTop ? 1 : 0;
            results.Add(new PositionResult(p, relL2, peerRelL2, peerSelfRelL2, maxAbs));
        }

        foreach (PositionResult x in results.Where((x, i) => i % 256 == 0 || x.RelL2 > 3e-2))
        {
            output.WriteLine($"position {x.Position}: relative L2 {x.RelL2:E2} vs float32 math (max |Δ| {x.MaxAbs:F3}), {x.PeerRelL2:E2} vs transformers bf16 " +
                $"(transformers bf16 vs float32 math: {x.PeerSelfRelL2:E2})");
        }

        var comparison = new PeerComparison(results, (double)agreeExact / positions.Length, (double)agreePeer / positions.Length,
            (double)peerAgreesExact / positions.Length);
        output.WriteLine($"{positions.Length} positions of a {prompt.Length}-token prompt: top-1 agreement with transformers float32 " +
            $"{comparison.AgreementWithExact:P2} (transformers' own bf16 run: {comparison.PeerAgreementWithExact:P2}), with transformers bf16 " +
            $"{comparison.AgreementWithPeer:P2}; worst relative L2 vs float32 math {results.Max(x => x.RelL2):E2} (max |Δ| {results.Max(x => x.MaxAbs):F3}), " +
            $"vs transformers bf16 {results.Max(x => x.PeerRelL2):E2} (transformers' own bf16 run vs float32 math: worst {results.Max(x => x.PeerSelfRelL2):E2}); {clock.Elapsed.TotalMilliseconds:F0} ms");

        // The CPU backend (float32 throughout) on the same checkpoint separates our model semantics from GPU rounding.
        CompiledModel plan = global::ShadowKV.Models.Llama.Plan;
        using (ModelDirectory directory = ModelDirectory.Open(Path.Combine(outDir, "model"), plan.Architectures.ToArray()))
        {
            var options = new EngineOptions { Variant = AttentionVariant.Full, MaxBatch = 1, MaxPromptTokens = prompt.Length, MaxNewTokens = 1 };
            BoundWeights weights = new CheckpointBinder(plan.Weights, directory.Config).Bind(directory.Checkpoint);
            using IModelBackend cpu = BackendFactory.Create(DeviceKind.Cpu, new BackendInputs(plan, directory.Config, options, weights));
            foreach (int i in new[] { 0, positions.Length / 2, positions.Length - 1 })
            {
                int p = positions[i];
                float[] logits = cpu.Forward(PhaseKind.Prefill, StepBatch.Create([new SequenceChunk(0, prompt[..(p + 1)], 0, p + 1)], 1, prompt.Length + 1));
                (double maxAbs, double relL2) = Logits.Difference(logits.AsSpan(0, vocab), exact.AsSpan(i * vocab, vocab));
                output.WriteLine($"CPU backend position {p}: relative L2 {relL2:E2} vs float32 math (max |Δ| {maxAbs:F3})");
            }
        }

        return comparison;
    }

    private static int Run(string file, string arguments, out string log)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(file, arguments)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            })!;
            var stderr = process.StandardError.ReadToEndAsync();
            string stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            log = stdout + stderr.Result;
            return process.ExitCode;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            log = e.Message;
            return -1;
        }
    }

    private static float[] ReadFloats(string path)
    {
        byte[] raw = File.ReadAllBytes(path);
        var values = new float[raw.Length / 4];
        Buffer.BlockCopy(raw, 0, values, 0, raw.Length);
        return values;
    }
}
