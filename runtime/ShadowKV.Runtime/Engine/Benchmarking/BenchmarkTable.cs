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
        ["kv", "context", "batch", "prefill s", "decode tok/s", "ms/step", "device mem", "pinned host", "vs full", "peer tok/s", "notes"];

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
            Notes(cell),
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

        foreach (PeerCell peer in report.Peer.Where(p => p.Details is not null).Take(1))
        {
            text.AppendLine().Append("Peer (").Append(peer.Peer).Append(", full attention): ").AppendLine(peer.Details);
        }

        return text.ToString();
    }

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
                $"model: {model.Name} ({model.Weights}): layers {model.Layers}, hidden {model.Hidden}, ffn {model.Ffn}, heads {model.Heads} q / {model.KvHeads} kv, head_dim {model.HeadDim}, vocab {model.Vocab}, positions {model.MaxPositions}"),
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

    private static string Notes(BenchmarkCell cell) => cell switch
    {
        { Status: CellStatus.DoesNotFit } => $"does not fit: {cell.Reason}",
        { Status: CellStatus.Failed } => $"failed: {cell.Reason}",
        { ShadowKV: { } s } => string.Create(CultureInfo.InvariantCulture,
            $"budget {s.BudgetTokens}, rank {s.Rank}, outliers {s.OutlierChunks}, values {s.Values}"),
        _ => "",
    };

    private static string Number(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
}
