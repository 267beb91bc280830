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

// Peer check: a seeded random Llama-3-shaped model built and run by Hugging Face transformers (peer/hf_reference.py,
// bf16, sdpa), loaded from its save_pretrained directory through ModelDirectory/CheckpointBinder and run by GpuBackend.
// Our prefill plan returns only each sequence's last-row logits, so position p is checked by a prefill of the prefix
// prompt[0..p]: causal attention makes its last row exactly HF's row p (same weights, same prefix).
public sealed class HuggingFacePeerTests(ITestOutputHelper output)
{
    [GpuFact]
    public void Random_llama_logits_match_transformers_at_sampled_positions()
    {
        string script = Path.Combine(AppContext.BaseDirectory, "peer", "hf_reference.py");
        if (!File.Exists(script))
        {
            Assert.Skip($"peer script not found at {script}");
        }

        string python = Environment.GetEnvironmentVariable("SKV_PYTHON") ?? "python3";
        string outDir = Path.Combine(Path.GetTempPath(), "skv-hf-peer-" + Environment.ProcessId);
        Directory.CreateDirectory(outDir);
        if (Run(python, "-c \"import torch, transformers, safetensors\"", out string probe) != 0)
        {
            Assert.Skip($"python3 with torch, transformers and safetensors is not available: {probe.Trim()}");
        }

        var clock = Stopwatch.StartNew();
        int status = Run(python, $"\"{script}\" \"{outDir}\" --tokens 2048 --positions 2048", out string log); // every position: top-1 rates need the whole prompt, not a sample
        output.WriteLine(log.Trim());
        Assert.True(status == 0, $"hf_reference.py failed ({status}): {log}");
        output.WriteLine($"[timing] transformers reference: {clock.Elapsed.TotalMilliseconds:F0} ms");

        using JsonDocument reference = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "reference.json")));
        int[] prompt = reference.RootElement.GetProperty("prompt_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        int[] positions = reference.RootElement.GetProperty("positions").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        int vocab = reference.RootElement.GetProperty("vocab").GetInt32();
        float[] all = ReadFloats(Path.Combine(outDir, "logits.bin"));
        Assert.Equal(positions.Length * vocab, all.Length);

        using GpuModel model = GpuModel.Open(Path.Combine(outDir, "model"),
            new EngineOptions { Variant = AttentionVariant.Full, MaxBatch = 1, MaxPromptTokens = prompt.Length, MaxNewTokens = 1 });
        clock.Restart();
        float[] exact = ReadFloats(Path.Combine(outDir, "logits_f32.bin"));
        int agree = 0, agreeExact = 0, peerAgreesExact = 0;
        double worstRelL2 = 0, worstMaxAbs = 0, worstPeerRelL2 = 0;
        var perPosition = new List<(int Position, double RelL2, double PeerRelL2, double MaxAbs)>();
        for (int i = 0; i < positions.Length; i++)
        {
            int p = positions[i];
            float[] ours = model.Prefill(prompt[..(p + 1)]);
            ReadOnlySpan<float> theirs = all.AsSpan(i * vocab, vocab);
            (double maxAbs, double relL2) = Logits.Difference(ours, exact.AsSpan(i * vocab, vocab));
            (_, double peerRelL2) = Logits.Difference(ours, theirs);
            worstRelL2 = Math.Max(worstRelL2, relL2);
            worstMaxAbs = Math.Max(worstMaxAbs, maxAbs);
            worstPeerRelL2 = Math.Max(worstPeerRelL2, peerRelL2);
            agree += GpuModel.Argmax(ours) == GpuModel.Argmax(theirs) ? 1 : 0;
            agreeExact += GpuModel.Argmax(ours) == GpuModel.Argmax(exact.AsSpan(i * vocab, vocab)) ? 1 : 0;
            peerAgreesExact += GpuModel.Argmax(theirs) == GpuModel.Argmax(exact.AsSpan(i * vocab, vocab)) ? 1 : 0;
            perPosition.Add((p, relL2, peerRelL2, maxAbs));
        }

        foreach (var (p, relL2, peerRelL2, maxAbs) in perPosition.Where((_, i) => i % 128 == 0 || perPosition[i].RelL2 > 5e-2))
        {
            output.WriteLine($"position {p}: relative L2 {relL2:E2} vs float32 math (max |Δ| {maxAbs:F3}), {peerRelL2:E2} vs transformers bf16");
        }

        double agreement = (double)agree / positions.Length, agreementExact = (double)agreeExact / positions.Length;
        double peerAgreement = (double)peerAgreesExact / positions.Length;
        output.WriteLine($"{positions.Length} positions of a {prompt.Length}-token prompt: top-1 agreement with transformers float32 {agreementExact:P1} (transformers' own bf16 run: {peerAgreement:P1}), with transformers bf16 {agreement:P1}, worst relative L2 vs float32 math {worstRelL2:E2} (max |Δ| {worstMaxAbs:F3}), vs transformers bf16 {worstPeerRelL2:E2}; {clock.Elapsed.TotalMilliseconds:F0} ms");

        // The CPU backend (float32 throughout) on the same checkpoint separates our model semantics from GPU rounding.
        CompiledModel plan = global::ShadowKV.Models.Llama.Plan;
        using (ModelDirectory directory = ModelDirectory.Open(Path.Combine(outDir, "model"), plan.Architectures.ToArray()))
        {
            var options = new EngineOptions { Variant = AttentionVariant.Full, MaxBatch = 1, MaxPromptTokens = prompt.Length, MaxNewTokens = 1 };
            BoundWeights weights = new CheckpointBinder(plan.Weights, directory.Config).Bind(directory.Checkpoint);
            using IModelBackend cpu = BackendFactory.Create(DeviceKind.Cpu, new BackendInputs(plan, directory.Config, options, weights, null));
            foreach (int i in new[] { 0, positions.Length / 2, positions.Length - 1 })
            {
                int p = positions[i];
                float[] logits = cpu.Forward(PhaseKind.Prefill, StepBatch.Create([new SequenceChunk(0, prompt[..(p + 1)], 0, p + 1)], 1, prompt.Length + 1));
                (double maxAbs, double relL2) = Logits.Difference(logits.AsSpan(0, vocab), exact.AsSpan(i * vocab, vocab));
                output.WriteLine($"CPU backend position {p}: relative L2 {relL2:E2} vs float32 math (max |Δ| {maxAbs:F3})");
            }
        }

        // Against exact math on the same bf16 weights, only our own roundings count (bf16 GEMM inputs and
        // attention probabilities, ~2⁻⁹ relative each, f32 residual stream): relative L2 ≤ 5e-2 per position.
        Assert.All(perPosition, x => Assert.True(x.RelL2 <= 5e-2, $"position {x.Position}: relative L2 {x.RelL2} against float32 math, max |Δ| {x.MaxAbs}"));
        // HF's own bf16 run also rounds its residual stream and every linear output to bf16, so the two bf16
        // implementations may sit on either side of the exact answer: ≤ 1e-1 against the peer.
        Assert.All(perPosition, x => Assert.True(x.PeerRelL2 <= 1e-1, $"position {x.Position}: relative L2 {x.PeerRelL2} against transformers bf16"));

        // Top-1 is judged against transformers running the same bf16 checkpoint in float32 math. This random model has
        // many near-tied top-2 logits, so no bf16 engine reaches 99% on it: transformers' own bf16 run is the yardstick,
        // and ours must agree with the exact answer at least as often (the 99% target needs a decisive, trained model).
        Assert.True(agreementExact >= peerAgreement,
            $"top-1 agreement with transformers float32 {agreementExact:P1} is below transformers' own bf16 run ({peerAgreement:P1})");
        Directory.Delete(outDir, recursive: true);
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
