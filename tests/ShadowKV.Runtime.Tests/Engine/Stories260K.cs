using System.Text.Json;
using ShadowKV.Compiler.Plans;
using ShadowKV.Models;
using ShadowKV.Runtime.Engine;
using ShadowKV.Runtime.Engine.Execution;
using ShadowKV.Runtime.Tests.Support;

namespace ShadowKV.Runtime.Tests.Engine;

/// <summary>The stories260K checkpoint and its Hugging Face reference outputs (reference.json).</summary>
internal sealed class Stories260K
{
    private Stories260K(string directory, JsonElement reference)
    {
        Directory = directory;
        BosGreedy200 = Ints(reference, "bos_greedy_200");
        PromptText = reference.GetProperty("prompt").GetString()!;
        PromptIds = Ints(reference, "prompt_ids");
        PromptGreedy100 = Ints(reference, "prompt_greedy_100");
        PromptLogitsFirst = Floats(reference, "prompt_logits_first");
        PromptLogitsLast = Floats(reference, "prompt_logits_last");
        PromptGreedyText = reference.GetProperty("prompt_greedy_100_text").GetString()!;
    }

    public string Directory { get; }

    public int[] BosGreedy200 { get; }

    public string PromptText { get; }

    public int[] PromptIds { get; }

    public int[] PromptGreedy100 { get; }

    public string PromptGreedyText { get; }

    public float[] PromptLogitsFirst { get; }

    public float[] PromptLogitsLast { get; }

    /// <summary>A 151-token prompt (BOS + the first 150 greedy tokens): long enough for ShadowKV chunks at c = 8.</summary>
    public int[] LongPrompt => [1, .. BosGreedy200[..150]];

    public static Stories260K Require()
    {
        string directory = SharedData.RequireDirectory("models/stories260K");
        using JsonDocument document = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "reference.json")));
        return new Stories260K(directory, document.RootElement.Clone());
    }

    public InferenceEngine Load(EngineOptions options) => InferenceEngine.Load(Directory, options with { Device = DeviceKind.Cpu }, CompiledModels.All);

    public static EngineOptions ShadowKV(int budget, int rank = 32, int outliers = 2, int local = 2) => new()
    {
        Variant = AttentionVariant.ShadowKV,
        MaxPromptTokens = 256,
        MaxNewTokens = 256,
        BudgetTokens = budget,
        Rank = rank,
        OutlierChunks = outliers,
        LocalChunks = local,
    };

    public static EngineOptions Full => new() { MaxPromptTokens = 256, MaxNewTokens = 256 };

    private static int[] Ints(JsonElement root, string name) => root.GetProperty(name).EnumerateArray().Select(e => e.GetInt32()).ToArray();

    private static float[] Floats(JsonElement root, string name) => root.GetProperty(name).EnumerateArray().Select(e => e.GetSingle()).ToArray();
}

/// <summary>Drives a backend directly: one-sequence prefill, then decode steps fed with given tokens; returns each step's logits.</summary>
internal static class BackendDriver
{
    public static List<float[]> Run(IModelBackend backend, IReadOnlyList<int> prompt, IReadOnlyList<int> fed, int vocab, int capacity = 1024)
    {
        int slots = (int)backend.Symbols["B"];
        backend.ResetSlot(0);
        var logits = new List<float[]>
        {
            backend.Forward(PhaseKind.Prefill, StepBatch.Create([new SequenceChunk(0, prompt, 0, prompt.Count)], slots, capacity))[..vocab],
        };
        for (int i = 0; i < fed.Count; i++)
        {
            var step = StepBatch.Create([new SequenceChunk(0, [fed[i]], prompt.Count + i, prompt.Count)], 1, capacity);
            logits.Add(backend.Forward(PhaseKind.Decode, step)[..vocab]);
        }

        return logits;
    }

    public static double MaxAbsDifference(IReadOnlyList<float[]> a, IReadOnlyList<float[]> b) =>
        a.Zip(b).Max(p => p.First.Zip(p.Second).Max(x => Math.Abs((double)x.First - x.Second)));
}
