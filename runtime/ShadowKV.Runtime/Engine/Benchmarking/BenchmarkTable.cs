using System.Globalization;
using ShadowKV.Runtime.Cuda;

namespace ShadowKV.Runtime.Engine.Benchmarking;

/// <summary>
/// The report as rows of text, one per engine cell: the columns the terminal table and the Markdown file share, so
/// both always show the same numbers.
/// </summary>
public static class BenchmarkTable
{
    /// <summary>Column headers, in the order of <see cref="Row"/>'s values.</summary>
    public static IReadOnlyList<string> Columns { get; } =
        ["kv", "context", "batch", "prefill s", "decode tok/s", "ms/step", "device mem", "pinned host", "vs full", "peer tok/s", "status"];

    /// <summary>Which columns hold numbers (right-aligned).</summary>
    public static IReadOnlyList<bool> Numeric { get; } = [false, true, true, true, true, true, true, true, true, true, false];

    public static IReadOnlyList<string> Row(BenchmarkReport report, BenchmarkCell cell)
    {
        CellMeasurement? m = cell.Measurement;
        return
        [
            cell.Variant,
            cell.Context.ToString(CultureInfo.InvariantCulture),
            cell.Batch.ToString(CultureInfo.InvariantCulture),
            m is null ? "–" : Number(m.PrefillSeconds, "F2"),
            m is null ? "–" : Number(m.TokensPerSecond, "F1"),
            m is null ? "–" : Number(m.MillisecondsPerStep, "F2"),
            m is null ? "–" : AdmissionControl.Format(m.DeviceBytes),
            m is null ? "–" : AdmissionControl.Format(m.PinnedHostBytes),
            cell.SpeedupOverFull is double speedup ? Number(speedup, "F2") + "×" : "–",
            Peer(report.PeerAt(cell.Context, cell.Batch)),
            Status(cell.Status),
        ];
    }

    /// <summary>Header lines (machine, model, run) and the table in GitHub Markdown.</summary>
    public static string ToMarkdown(BenchmarkReport report)
    {
        var text = new System.Text.StringBuilder();
        foreach (string line in HeaderLines(report))
        {
            text.Append("- ").AppendLine(line);
        }

        text.AppendLine();
        text.Append("| ").AppendJoin(" | ", Columns).AppendLine(" |");
        text.Append('|').AppendJoin("", Numeric.Select(n => n ? "---:|" : "---|")).AppendLine();
        foreach (BenchmarkCell cell in report.Cells)
        {
            text.Append("| ").AppendJoin(" | ", Row(report, cell).Select(v => v.Replace("|", "\\|", StringComparison.Ordinal))).AppendLine(" |");
        }

        text.AppendLine();
        foreach (string line in Footnotes(report))
        {
            text.Append("- ").AppendLine(line);
        }

        return text.ToString();
    }

    /// <summary>
    /// What the table's rows cannot hold: why cells were not measured, the ShadowKV settings in force, the peer's
    /// results and how it ran, and the engine's notes.
    /// </summary>
    public static IReadOnlyList<string> Footnotes(BenchmarkReport report)
    {
        var lines = new List<string>
        {
            "decode tok/s = batch × timed steps / seconds; memory is the backend's after the cell; vs full = decode tok/s over full attention at the same context and batch",
        };
        lines.AddRange(report.Cells.Where(c => c.Status != CellStatus.Measured)
            .Select(c => $"{c.Variant} {c.Context}×{c.Batch}: {Status(c.Status)}: {c.Reason}"));
        lines.AddRange(report.Cells.Select(c => c.ShadowKV).OfType<ShadowKVCellSettings>().Distinct().Select(s => string.Create(CultureInfo.InvariantCulture,
            $"shadowkv: budget {s.BudgetTokens} tokens, rank {s.Rank}, chunk {s.ChunkSize}, outlier chunks {s.OutlierChunks}, local chunks {s.LocalChunks}, values {s.Values}")));
        if (report.Peer.Count > 0)
        {
            lines.Add($"peer {report.Peer[0].Peer}: Hugging Face transformers, eager PyTorch (no torch.compile), full attention only");
            lines.AddRange(report.Peer.Select(p => $"peer {p.Context}×{p.Batch}: {PeerSummary(p)}"));
        }

        lines.AddRange(report.Cells.Where(c => c.Profile is not null).Select(c => string.Create(CultureInfo.InvariantCulture,
            $"profile {c.Variant} {c.Context}×{c.Batch} (GPU ms per decode step, eager with events, warm-up included; side streams overlap): ") +
            string.Join(", ", c.Profile!.Take(10).Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Label} {p.MillisecondsPerStep:F2} ({p.Share:P0})")))));
        lines.AddRange(report.Cells.SelectMany(c => c.Notes).Distinct(StringComparer.Ordinal).Select(n => $"note: {n}"));
        return lines;
    }

    /// <summary>One line on a peer cell: its numbers and how it ran, or why it has none.</summary>
    public static string PeerSummary(PeerCell cell) => cell.Status switch
    {
        PeerStatus.Measured => string.Create(CultureInfo.InvariantCulture,
            $"{cell.TokensPerSecond:F1} tok/s, {cell.MillisecondsPerStep:F1} ms/step, prefill {cell.PrefillSeconds:F1} s, peak {(cell.PeakMemoryBytes is long peak ? AdmissionControl.Format(peak) : "?")}")
            + (cell.Details is null ? "" : $" ({cell.Details})"),
        PeerStatus.Unavailable => $"peer unavailable: {cell.Reason}",
        PeerStatus.DoesNotFit => $"does not fit: {cell.Reason}",
        _ => $"failed: {cell.Reason}",
    };

    /// <summary>What was measured where: machine, model shape, seed and steps.</summary>
    public static IReadOnlyList<string> HeaderLines(BenchmarkReport report)
    {
        BenchmarkMachine machine = report.Machine;
        BenchmarkModel model = report.Model;
        BenchmarkRunSettings run = report.Settings;
        return
        [
            $"machine: {machine.Device}; {machine.ProcessorCount} cores; {machine.OperatingSystem}; {machine.DotNet}",
            string.Create(CultureInfo.InvariantCulture,
                $"model: {model.Name}, {model.Weights}: layers {model.Layers}, hidden {model.Hidden}, ffn {model.Ffn}, heads {model.Heads} q / {model.KvHeads} kv, head_dim {model.HeadDim}, vocab {model.Vocab}, positions {model.MaxPositions}"),
            string.Create(CultureInfo.InvariantCulture,
                $"run: seed {run.Seed}, random prompts, {run.WarmupSteps} warm-up + {run.DecodeSteps} timed decode steps of greedy tokens, device {run.Device}, peer {run.Peer}"),
        ];
    }

    private static string Peer(PeerCell? peer) => peer switch
    {
        null => "–",
        { Status: PeerStatus.Measured, TokensPerSecond: double tps } => Number(tps, "F1"),
        { Status: PeerStatus.Unavailable } => "unavailable",
        { Status: PeerStatus.DoesNotFit } => "does not fit",
        _ => "failed",
    };

    private static string Status(CellStatus status) => status switch
    {
        CellStatus.Measured => "ok",
        CellStatus.DoesNotFit => "does not fit",
        _ => "failed",
    };

    private static string Number(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
}
