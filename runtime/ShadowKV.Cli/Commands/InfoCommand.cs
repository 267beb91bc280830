using System.CommandLine;
using System.Globalization;
using ShadowKV.Compiler.Plans;
using ShadowKV.Models;
using ShadowKV.Runtime.Engine;
using ShadowKV.Runtime.Engine.Checkpoints;
using ShadowKV.Runtime.Engine.Execution;
using Spectre.Console;

namespace ShadowKV.Cli.Commands;

/// <summary>
/// <c>skv info</c>: the model's shape and a memory table for a context and batch. Every byte count comes from the
/// compiled plan (CacheBytesPerLayer, HostCacheBytesPerLayer, ArenaBytes and cache buffer shapes) through PlanSymbols.
/// </summary>
public static class InfoCommand
{
    public static Command Create() => Create(Console.Out, Console.Error);

    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new Option<string?>("--model") { Description = "Hugging Face model directory; omitted: the built-in tiny model's shape" };
        var context = new Option<int>("--context") { Description = "Prompt tokens per sequence", DefaultValueFactory = _ => 4096 };
        var batch = new Option<int>("--batch") { Description = "Sequences", DefaultValueFactory = _ => 1 };
        var maxNew = new Option<int>("--max-new") { Description = "Generated tokens per sequence", DefaultValueFactory = _ => 256 };
        var command = new Command("info", "Show a model's shape and its memory for a context and batch");
        command.Options.Add(model);
        command.Options.Add(context);
        command.Options.Add(batch);
        command.Options.Add(maxNew);
        command.SetAction(parse => CliErrors.Run(error, () =>
        {
            string? directory = parse.GetValue(model);
            (string name, ModelConfig config, long weightBytes) = Describe(directory);
            CompiledModel compiled = InferenceEngine.Pick(CompiledModels.All, config);
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
            console.WriteLine($"{name}: {compiled.Name} plan ({string.Join(", ", config.Architectures)})");
            console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"layers {config.NumHiddenLayers}, heads {config.NumAttentionHeads} q / {config.NumKeyValueHeads} kv (GQA {config.GroupSize}), d {config.HeadDim}, hidden {config.HiddenSize}, ffn {config.IntermediateSize}, vocab {config.VocabSize}, rope θ {config.RopeTheta}{(config.RopeScaling is null ? "" : " (llama3 scaling)")}, context {config.MaxPositionEmbeddings}"));
            var options = new EngineOptions { MaxBatch = parse.GetValue(batch), MaxPromptTokens = parse.GetValue(context), MaxNewTokens = parse.GetValue(maxNew) };
            console.Write(MemoryTable(compiled, config, options, weightBytes));
            foreach (string note in PlanSymbols.For(config, options with { Variant = AttentionVariant.ShadowKV }, compiled.ShadowKV).Notes)
            {
                console.WriteLine($"note: {note}");
            }

            return 0;
        }));
        return command;
    }

    private static (string Name, ModelConfig Config, long WeightBytes) Describe(string? directory)
    {
        if (directory is null)
        {
            ModelConfig preset = ModelConfig.Preset("tiny-llama3");
            long elements = InferenceEngine.Pick(CompiledModels.All, preset).Weights
                .Sum(w => w.Shape.Aggregate(1L, (p, dim) => p * SymbolicExpression.Evaluate(dim, preset.Symbols)) * (w.PerLayer ? preset.NumHiddenLayers : 1));
            return ($"tiny-llama3, {InferenceEngine.RandomModelLabel}", preset, elements * 2);
        }

        var architectures = CompiledModels.All.SelectMany(m => m.Architectures).Distinct().ToArray();
        using ModelDirectory opened = ModelDirectory.Open(directory, architectures);
        BoundWeights bound = new CheckpointBinder(InferenceEngine.Pick(CompiledModels.All, opened.Config).Weights, opened.Config).Bind(opened.Checkpoint);
        return (Path.GetFileName(opened.Path), opened.Config, bound.All.Sum(w => w.Tensor.ElementCount * 2));
    }

    private static Table MemoryTable(CompiledModel model, ModelConfig config, EngineOptions options, long weightBytes)
    {
        long layers = config.NumHiddenLayers;
        var table = new Table().AddColumn("memory").AddColumn(new TableColumn("bytes").RightAligned()).AddColumn("where");
        void Row(string what, long bytes, string where) => table.AddRow(Markup.Escape(what), Format(bytes), where);
        Row("weights (bf16)", weightBytes, "GPU");

        PlanSymbols full = PlanSymbols.For(config, options with { Variant = AttentionVariant.Full }, model.ShadowKV);
        PhasePlan fullDecode = Phase(model, AttentionVariant.Full, PhaseKind.Decode);
        Row($"full attention: KV cache (S = {full["S"]}, B = {full["B"]})", layers * full.Evaluate(fullDecode.CacheBytesPerLayer), "GPU");
        Row("full attention: prefill activation arena", full.Evaluate(Phase(model, AttentionVariant.Full, PhaseKind.Prefill).ArenaBytes), "GPU");

        PlanSymbols shadow = PlanSymbols.For(config, options with { Variant = AttentionVariant.ShadowKV }, model.ShadowKV);
        PhasePlan decode = Phase(model, AttentionVariant.ShadowKV, PhaseKind.Decode);
        Row($"ShadowKV: GPU cache (r = {shadow["r"]}, c = {shadow["c"]}, k = {shadow["k"]} chunks, o = {shadow["o"]})", layers * shadow.Evaluate(decode.CacheBytesPerLayer), "GPU");
        foreach ((string group, long bytes) in ShadowKvGroups(decode, shadow))
        {
            Row($"  {group}", layers * bytes, "GPU");
        }

        Row("ShadowKV: values", layers * shadow.Evaluate(decode.HostCacheBytesPerLayer), "host (pinned)");
        Row("ShadowKV: prefill activation arena", shadow.Evaluate(Phase(model, AttentionVariant.ShadowKV, PhaseKind.Prefill).ArenaBytes), "GPU");
        return table;
    }

    // The decode plan's per-layer device buffers by role, sized from their symbolic shapes (no alignment padding).
    private static IEnumerable<(string Group, long Bytes)> ShadowKvGroups(PhasePlan decode, PlanSymbols symbols)
    {
        static string GroupOf(string name) => name switch
        {
            "lowrank" or "basis" => "low-rank keys (A factor + basis)",
            "landmarks" or "landmark_ids" or "landmark_count" => "landmarks",
            "outlier_k" or "outlier_v" or "local_k" or "local_v" or "local_count" => "outliers + local tail",
            "slot_chunk" or "work_k" or "work_v" => "working set (selected chunks)",
            "gen_k" or "gen_v" => "generated tokens",
            _ => "other",
        };

        return decode.Buffers
            .Where(b => b.Lifetime == BufferLifetime.Cache)
            .GroupBy(b => GroupOf(b.Name))
            .Select(g => (g.Key, g.Sum(symbols.Bytes)));
    }

    private static PhasePlan Phase(CompiledModel model, AttentionVariant variant, PhaseKind kind) =>
        model.Phases.First(p => p.Variant == variant && p.Kind == kind);

    private static string Format(long bytes) => bytes switch
    {
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):F2} GiB"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):F2} MiB"),
        >= 1L << 10 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:F1} KiB"),
        _ => $"{bytes} B",
    };
}
