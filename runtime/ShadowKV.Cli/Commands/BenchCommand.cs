using System.CommandLine;
using System.Globalization;
using ShadowKV.Compiler;
using ShadowKV.Compiler.Plans;
using ShadowKV.Models;
using ShadowKV.Runtime.Engine;
using ShadowKV.Runtime.Engine.Benchmarking;
using ShadowKV.Runtime.Engine.Execution;
using Spectre.Console;

namespace ShadowKV.Cli.Commands;

/// <summary>
/// <c>skv bench</c>: decode throughput of full attention and ShadowKV over contexts × batch sizes, with the
/// Hugging Face peer measured in the same run, as a table (and optionally JSON and Markdown files).
/// With no arguments it runs anywhere: on a GPU host the llama-3.1-8b shape at 60K and 122K, elsewhere the tiny
/// preset on the CPU in seconds.
/// </summary>
public static class BenchCommand
{
    private const string GpuPreset = "llama-3.1-8b";
    private const string CpuPreset = "tiny-llama3";

    public static Command Create() => Create(Console.Out, Console.Error);

    /// <summary>The command writing the table to <paramref name="output"/> and progress to <paramref name="error"/>.</summary>
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new Option<string?>("--model") { Description = "Hugging Face model directory; omitted: --preset with random weights" };
        var preset = new Option<string?>("--preset") { Description = $"Model shape with random weights (default: {GpuPreset} on a GPU, else {CpuPreset})" };
        var device = new Option<string>("--device") { Description = "cpu, gpu or auto", DefaultValueFactory = _ => "auto" };
        device.AcceptOnlyFromAmong("cpu", "gpu", "auto");
        var contexts = new Option<string?>("--context") { Description = "Prompt tokens per sequence, comma-separated; K = 1024 (default: 60K,122K on a GPU, else 256,1024)" };
        var batches = new Option<string?>("--batch") { Description = "Batch sizes, comma-separated (default: 1,4 on a GPU, else 1)" };
        var kv = new Option<string>("--kv") { Description = "Attention variants, comma-separated: full, shadowkv", DefaultValueFactory = _ => "full,shadowkv" };
        var decodeSteps = new Option<int>("--steps") { Description = "Timed decode steps per cell (each sequence generates 1 + warmup + steps tokens)", DefaultValueFactory = _ => 32 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed decode steps before timing, at least 1 (the first builds the step and captures its CUDA graph)", DefaultValueFactory = _ => 4 };
        var budget = new Option<int?>("--budget") { Description = "ShadowKV sparse budget in tokens (default: the model's)" };
        var rank = new Option<int?>("--rank") { Description = "ShadowKV rank of the pre-RoPE keys (default: the model's)" };
        var values = new Option<string?>("--values") { Description = "ShadowKV values: host (pinned) or gpu (default: the model's)" };
        values.AcceptOnlyFromAmong("host", "gpu");
        var peer = new Option<string>("--peer") { Description = "Peer measured at the same cells: none or hf (transformers, full attention)", DefaultValueFactory = _ => "none" };
        peer.AcceptOnlyFromAmong("none", "hf");
        var seed = new Option<ulong>("--seed") { Description = "Seed of the prompts and random weights" };
        var profile = new Option<bool>("--profile") { Description = "GPU: time each kernel and GEMM of the decode steps (eager, with events; slower) and list where a step's time goes" };
        var json = new Option<FileInfo?>("--json") { Description = "Also write the results as JSON to this file" };
        var markdown = new Option<FileInfo?>("--markdown") { Description = "Also write the results as a Markdown table to this file" };
        var command = new Command("bench", "Measure decode throughput: full attention vs ShadowKV, with a peer");
        foreach (Option option in new Option[] { model, preset, device, contexts, batches, kv, decodeSteps, warmup, budget, rank, values, peer, seed, profile, json, markdown })
        {
            command.Options.Add(option);
        }

        command.SetAction(parse => CliErrors.Run(error, () =>
        {
            string? directory = parse.GetValue(model);
            string? presetName = parse.GetValue(preset);
            if (directory is not null && presetName is not null)
            {
                throw new ArgumentException("Give --model DIR or --preset NAME, not both.");
            }

            DeviceKind target = ResolveDevice(parse.GetValue(device)!);
            bool gpu = target == DeviceKind.Gpu;
            int steps = Positive(parse.GetValue(decodeSteps), "--steps");
            int warmupSteps = Positive(parse.GetValue(warmup), "--warmup");
            // The files are opened before minutes of measurement, so a bad path fails now rather than after the run.
            using TextWriter? jsonFile = Open(parse.GetValue(json));
            using TextWriter? markdownFile = Open(parse.GetValue(markdown));
            var options = new ThroughputBenchmarkOptions
            {
                ModelDirectory = directory,
                Preset = presetName ?? (gpu ? GpuPreset : CpuPreset),
                Contexts = ParseCounts(parse.GetValue(contexts) ?? (gpu ? "60K,122K" : "256,1024"), "--context"),
                Batches = ParseCounts(parse.GetValue(batches) ?? (gpu ? "1,4" : "1"), "--batch"),
                Variants = ParseVariants(parse.GetValue(kv)!),
                DecodeSteps = steps,
                WarmupSteps = warmupSteps,
                Seed = parse.GetValue(seed),
                Engine = new EngineOptions
                {
                    Device = target,
                    BudgetTokens = parse.GetValue(budget),
                    Rank = parse.GetValue(rank),
                    Values = parse.GetValue(values) switch { "host" => ValuePlacement.Host, "gpu" => ValuePlacement.Gpu, _ => null },
                    ProfileDecode = parse.GetValue(profile),
                },
            };
            IThroughputPeer? hf = parse.GetValue(peer) == "hf" ? CreatePeer() : null;
            var benchmark = new ThroughputBenchmark(options, CompiledModels.All, hf);
            error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"bench: {benchmark.Model.Name} ({benchmark.Model.Weights}) on {target.ToString().ToLowerInvariant()}, {options.Contexts.Count * options.Batches.Count * options.Variants.Count} cells"));
            BenchmarkReport report = benchmark.Run(
                cell => error.WriteLine($"  {Progress(cell)}"),
                cell => error.WriteLine($"  peer {cell.Peer} {cell.Context}×{cell.Batch}: {BenchmarkTable.PeerSummary(cell)}"));
            Print(output, report);
            Write(jsonFile, json.Name, parse.GetValue(json), BenchmarkReportJson.Write(report), error);
            Write(markdownFile, markdown.Name, parse.GetValue(markdown), BenchmarkTable.ToMarkdown(report), error);
            return 0;
        }));
        return command;
    }

    /// <summary>
    /// A comma-separated list of positive counts for <paramref name="option"/>; a K suffix multiplies by 1024
    /// ("60K" = 61440). Anything else is an <see cref="ArgumentException"/> naming the option and the bad entry.
    /// </summary>
    public static IReadOnlyList<int> ParseCounts(string text, string option)
    {
        var counts = new List<int>();
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            bool kilo = part.EndsWith('K') || part.EndsWith('k');
            string digits = kilo ? part[..^1] : part;
            if (!int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value <= 0
                || (kilo && value > int.MaxValue / 1024))
            {
                throw new ArgumentException($"{option}: '{part}' is not a positive whole number (examples: 4096, 60K; separate several with commas).");
            }

            counts.Add(kilo ? value * 1024 : value);
        }

        return counts.Distinct().ToArray();
    }

    /// <summary>A comma-separated list of attention variants (full, shadowkv).</summary>
    public static IReadOnlyList<AttentionVariant> ParseVariants(string text) =>
        text.Split(',', StringSplitOptions.TrimEntries).Select(part => part.ToLowerInvariant() switch
        {
            "full" => AttentionVariant.Full,
            "shadowkv" => AttentionVariant.ShadowKV,
            _ => throw new ArgumentException($"--kv: '{part}' is not an attention variant; use full, shadowkv or both (full,shadowkv)."),
        }).Distinct().ToArray();

    private static DeviceKind ResolveDevice(string device) => device switch
    {
        "cpu" => DeviceKind.Cpu,
        "gpu" when !BackendFactory.IsGpuAvailable => throw new NotSupportedException("--device gpu: no usable CUDA GPU on this machine (use --device cpu or auto)."),
        "gpu" => DeviceKind.Gpu,
        // Auto is resolved here, once: a cell left on Auto could fall back to the CPU and report CPU numbers as the GPU's.
        _ => BackendFactory.IsGpuAvailable ? DeviceKind.Gpu : DeviceKind.Cpu,
    };

    private static HuggingFacePeer CreatePeer()
    {
        string script = HuggingFacePeer.FindScript(AppContext.BaseDirectory)
            ?? Path.Combine(AppContext.BaseDirectory, HuggingFacePeer.ScriptName); // missing: reported as the peer being unavailable
        return new HuggingFacePeer(script);
    }

    // Header and footnotes are plain lines (never wrapped, so they can be copied); the table is Spectre's.
    private static void Print(TextWriter output, BenchmarkReport report)
    {
        foreach (string line in BenchmarkTable.HeaderLines(report))
        {
            output.WriteLine(line);
        }

        var table = new Table();
        foreach ((string column, bool numeric) in BenchmarkTable.Columns.Zip(BenchmarkTable.Numeric))
        {
            table.AddColumn(numeric ? new TableColumn(column).RightAligned() : new TableColumn(column));
        }

        foreach (BenchmarkCell cell in report.Cells)
        {
            table.AddRow(BenchmarkTable.Row(report, cell).Select(Markup.Escape).ToArray());
        }

        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
        // Redirected output (a log, a file) reports a narrow width; keep every row on one line there.
        console.Profile.Width = Math.Max(console.Profile.Width, 140);
        console.Write(table);
        foreach (string line in BenchmarkTable.Footnotes(report))
        {
            output.WriteLine(line);
        }

        output.Flush();
    }

    private static string Progress(BenchmarkCell cell) => cell switch
    {
        { Measurement: { } m } => string.Create(CultureInfo.InvariantCulture,
            $"{cell.Variant} {cell.Context}×{cell.Batch}: prefill {m.PrefillSeconds:F2} s, {m.TokensPerSecond:F1} tok/s"),
        _ => $"{cell.Variant} {cell.Context}×{cell.Batch}: {(cell.Status == CellStatus.DoesNotFit ? "does not fit" : "failed")}: {cell.Reason}",
    };

    private static int Positive(int value, string option) =>
        value > 0 ? value : throw new ArgumentException($"{option} must be a positive number; got {value}.");

    private static StreamWriter? Open(FileInfo? file)
    {
        if (file is null)
        {
            return null;
        }

        file.Directory?.Create();
        return new StreamWriter(file.FullName, append: false);
    }

    private static void Write(TextWriter? writer, string option, FileInfo? file, string text, TextWriter error)
    {
        if (writer is null || file is null)
        {
            return;
        }

        writer.Write(text);
        writer.Flush();
        error.WriteLine($"wrote {option} {file.FullName}");
    }
}
