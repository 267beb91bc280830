using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using ShadowKV.Compiler.Plans;
using ShadowKV.Runtime.Cuda;
using ShadowKV.Runtime.Engine.Checkpoints;
using ShadowKV.Runtime.Engine.Execution;
using ShadowKV.Runtime.Gpu;

namespace ShadowKV.Gpu.Tests.Support;

/// <summary>A checkpoint directory opened through the engine's pieces (ModelDirectory, CheckpointBinder) and run by GpuBackend.</summary>
internal sealed class GpuModel : IDisposable
{
    private GpuModel(ModelDirectory directory, GpuBackend backend)
    {
        Directory = directory;
        Backend = backend;
    }

    public ModelDirectory Directory { get; }

    public GpuBackend Backend { get; }

    public int Vocab => (int)Directory.Config.VocabSize;

    // Positions a sequence may reach: full attention's cache holds prompt and new tokens (S); ShadowKV's S is the
    // prompt capacity and new tokens go to their own region of max_new.
    public int Capacity => (int)(Backend.Variant == AttentionVariant.ShadowKV ? Backend.Symbols["S"] + Backend.Symbols["max_new"] : Backend.Symbols["S"]);

    public static GpuModel Open(string path, EngineOptions options, KernelCache? cache = null)
    {
        CompiledModel plan = ShadowKV.Models.Llama.Plan;
        ModelDirectory directory = ModelDirectory.Open(path, plan.Architectures.ToArray());
        try
        {
            BoundWeights weights = new CheckpointBinder(plan.Weights, directory.Config).Bind(directory.Checkpoint);
            GpuBackend backend = GpuBackend.Create(plan, directory.Config, weights, options, TestGpu.Device, cache ?? TestKernelCache.Shared);
            return new GpuModel(directory, backend);
        }
        catch
        {
            directory.Dispose();
            throw;
        }
    }

    /// <summary>Logits [vocab] of the last prompt token after a prefill of <paramref name="prompt"/> in slot 0.</summary>
    public float[] Prefill(IReadOnlyList<int> prompt)
    {
        Backend.ResetSlot(0);
        var batch = StepBatch.Create([new SequenceChunk(0, prompt, 0, prompt.Count)], (int)Backend.Symbols["B"], Capacity);
        return Backend.Forward(PhaseKind.Prefill, batch).AsSpan(0, Vocab).ToArray();
    }

    /// <summary>Logits [vocab] after one decode step of <paramref name="token"/> at <paramref name="position"/> in slot 0.</summary>
    public float[] Decode(int token, int position, int promptLength)
    {
        var batch = StepBatch.Create([new SequenceChunk(0, [token], position, promptLength)], (int)Backend.Symbols["B"], Capacity);
        return Backend.Forward(PhaseKind.Decode, batch).AsSpan(0, Vocab).ToArray();
    }

    /// <summary>Greedy generation: prefill, then <paramref name="count"/> − 1 decode steps.</summary>
    public List<int> Greedy(IReadOnlyList<int> prompt, int count)
    {
        var generated = new List<int>();
        float[] logits = Prefill(prompt);
        for (int i = 0; i < count; i++)
        {
            int next = Argmax(logits);
            generated.Add(next);
            if (i + 1 < count)
            {
                logits = Decode(next, prompt.Count + i, prompt.Count);
            }
        }

        return generated;
    }

    public static int Argmax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }

    public void Dispose()
    {
        Backend.Dispose();
        Directory.Dispose();
    }
}

/// <summary>One kernel cache folder per test process (fresh, so the first compile of each phase is a cold NVRTC compile).</summary>
internal static class TestKernelCache
{
    public static readonly string Folder = Path.Combine(Path.GetTempPath(), "skv-gpu-backend-tests-" + Environment.ProcessId);

    public static KernelCache Shared { get; } = new(Folder);
}

/// <summary>Logit comparisons for end-to-end tests.</summary>
internal static class Logits
{
    public static (double MaxAbs, double RelativeL2) Difference(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        double maxAbs = 0, diff2 = 0, ref2 = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double e = (double)actual[i] - expected[i];
            maxAbs = Math.Max(maxAbs, Math.Abs(e));
            diff2 += e * e;
            ref2 += (double)expected[i] * expected[i];
        }

        return (maxAbs, Math.Sqrt(diff2 / Math.Max(ref2, 1e-30)));
    }

    public static int[] TopK(ReadOnlySpan<float> values, int k)
    {
        float[] copy = values.ToArray();
        return Enumerable.Range(0, copy.Length).OrderByDescending(i => copy[i]).Take(k).ToArray();
    }
}
