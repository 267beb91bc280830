using ShadowKV.Compiler.Plans;
using ShadowKV.Models;
using ShadowKV.Runtime.Engine;
using ShadowKV.Runtime.Engine.Benchmarking;
using ShadowKV.Runtime.Engine.Checkpoints;
using ShadowKV.Runtime.Engine.Execution;

namespace ShadowKV.Runtime.Tests.Benchmarking;

// The harness on the CPU with a one-layer tiny-llama3: what it records, never how fast it is.
public sealed class ThroughputBenchmarkTests
{
    private static readonly ModelConfig OneLayer = ModelConfig.Preset("tiny-llama3") with { NumHiddenLayers = 1 };

    private static ThroughputBenchmarkOptions Options(params int[] contexts) => new()
    {
        Preset = "tiny-llama3",
        PresetShape = OneLayer,
        Contexts = contexts,
        Batches = [1, 2],
        WarmupSteps = 1,
        DecodeSteps = 2,
        Seed = 7,
        Engine = new EngineOptions { Device = DeviceKind.Cpu, BudgetTokens = 32, OutlierChunks = 1, LocalChunks = 1 },
    };

    [Fact]
    public void EveryCellIsMeasuredWithPositiveThroughputAndMemory()
    {
        BenchmarkReport report = new ThroughputBenchmark(Options(64, 96), CompiledModels.All).Run();

        Assert.Equal(8, report.Cells.Count); // 2 contexts × 2 batch sizes × 2 variants
        Assert.All(report.Cells, cell =>
        {
            Assert.Equal(CellStatus.Measured, cell.Status);
            Assert.Null(cell.Reason);
            CellMeasurement m = Assert.IsType<CellMeasurement>(cell.Measurement);
            Assert.True(m.TokensPerSecond > 0 && m.MillisecondsPerStep > 0 && m.PrefillSeconds > 0);
            Assert.Equal(2, m.DecodeSteps);
            Assert.True(m.DeviceBytes > 0);
            Assert.StartsWith("cpu", cell.Device, StringComparison.Ordinal);
        });

        // Only ShadowKV keeps values in (pinned) host memory, and says which settings it ran with.
        Assert.All(report.Cells.Where(c => c.Variant == "full"), c => Assert.Equal(0, c.Measurement!.PinnedHostBytes));
        Assert.All(report.Cells.Where(c => c.Variant == "shadowkv"), c =>
        {
            Assert.True(c.Measurement!.PinnedHostBytes > 0);
            Assert.Equal(new ShadowKVCellSettings(32, 128, 8, 1, 1, "host"), c.ShadowKV);
        });
        Assert.Equal("tiny-llama3", report.Model.Name);
        Assert.Equal(1, report.Model.Layers);
        Assert.StartsWith("cpu", report.Machine.Device, StringComparison.Ordinal);
    }

    [Fact]
    public void SpeedupIsShadowKvOverTheFullCellOfTheSameContextAndBatch()
    {
        BenchmarkReport report = new ThroughputBenchmark(Options(64) with { Batches = [1, 2] }, CompiledModels.All).Run();

        foreach (BenchmarkCell shadow in report.Cells.Where(c => c.Variant == "shadowkv"))
        {
            BenchmarkCell full = report.Cells.Single(c => c.Variant == "full" && c.Context == shadow.Context && c.Batch == shadow.Batch);
            Assert.Null(full.SpeedupOverFull);
            Assert.Equal(shadow.Measurement!.TokensPerSecond / full.Measurement!.TokensPerSecond, shadow.SpeedupOverFull!.Value, 12);
        }
    }

    [Fact]
    public void AContextBeyondTheModelIsRecordedAndTheRunGoesOn()
    {
        // 200 prompt tokens + 4 generated do not fit in 128 positions; 64 do.
        ThroughputBenchmarkOptions options = Options(200, 64) with { PresetShape = OneLayer with { MaxPositionEmbeddings = 128 }, Batches = [1] };
        BenchmarkReport report = new ThroughputBenchmark(options, CompiledModels.All, new FixedPeer()).Run();

        Assert.Equal(4, report.Cells.Count);
        Assert.All(report.Cells.Where(c => c.Context == 200), c =>
        {
            Assert.Equal(CellStatus.DoesNotFit, c.Status);
            Assert.Contains("exceeds the model's 128 positions", c.Reason, StringComparison.Ordinal);
            Assert.Null(c.Measurement);
            Assert.Null(c.SpeedupOverFull);
        });
        Assert.All(report.Cells.Where(c => c.Context == 64), c => Assert.Equal(CellStatus.Measured, c.Status));
        Assert.Equal(PeerStatus.DoesNotFit, report.PeerAt(200, 1)!.Status);
        Assert.Equal(PeerStatus.Measured, report.PeerAt(64, 1)!.Status);
    }

    [Fact]
    public void ABackendThatRefusesTheCellIsRecordedAsNotFitting()
    {
        if (BackendFactory.IsGpuAvailable)
        {
            Assert.Skip("This machine has a GPU: the GPU backend would run the cell instead of refusing it.");
        }

        ThroughputBenchmarkOptions options = Options(64) with { Batches = [1], Engine = new EngineOptions { Device = DeviceKind.Gpu } };
        BenchmarkReport report = new ThroughputBenchmark(options, CompiledModels.All).Run();

        Assert.Equal(2, report.Cells.Count);
        Assert.All(report.Cells, c =>
        {
            Assert.Equal(CellStatus.DoesNotFit, c.Status);
            Assert.Contains("GPU", c.Reason, StringComparison.Ordinal);
        });
        Assert.Equal("gpu", report.Machine.Device); // no backend was built: the device asked for
    }

    [Fact]
    public void ThePeerIsMeasuredOnceForEachContextAndBatch()
    {
        var peer = new FixedPeer();
        BenchmarkReport report = new ThroughputBenchmark(Options(64) with { Variants = [AttentionVariant.Full] }, CompiledModels.All, peer).Run();

        Assert.Equal([(64, 1), (64, 2)], peer.Requests.Select(r => (r.Context, r.Batch)));
        Assert.All(peer.Requests, r => Assert.Equal(OneLayer, r.Config));
        Assert.Equal("fixed", report.Settings.Peer);
        Assert.Equal("12.5", BenchmarkTable.Row(report, report.Cells[0])[BenchmarkTable.Columns.ToList().IndexOf("peer tok/s")]);
    }

    [Fact]
    public void TheReportSurvivesAJsonRoundTrip()
    {
        BenchmarkReport report = new ThroughputBenchmark(Options(64, 200) with { PresetShape = OneLayer with { MaxPositionEmbeddings = 128 }, Batches = [1] },
            CompiledModels.All, new FixedPeer()).Run();

        string json = BenchmarkReportJson.Write(report);
        BenchmarkReport read = BenchmarkReportJson.Read(json);

        Assert.Equal(json, BenchmarkReportJson.Write(read));
        Assert.Equal(report.Machine, read.Machine);
        Assert.Equal(report.Model, read.Model);
        Assert.Equal(report.Settings, read.Settings);
        Assert.Equal(report.Cells.Select(c => (c.Variant, c.Context, c.Status, c.Measurement, c.ShadowKV, c.SpeedupOverFull)),
            read.Cells.Select(c => (c.Variant, c.Context, c.Status, c.Measurement, c.ShadowKV, c.SpeedupOverFull)));
        Assert.Equal(report.Peer, read.Peer);
        Assert.Contains("\"status\": \"DoesNotFit\"", json, StringComparison.Ordinal);
        Assert.Contains("\"tokens_per_second\"", json, StringComparison.Ordinal);
    }

    [Fact]
    public void PromptsAreSeededExactLengthAndAvoidTheSpecialIds()
    {
        int[][] a = ThroughputBenchmark.Prompts(3, 100, 2, 512);
        int[][] b = ThroughputBenchmark.Prompts(3, 100, 2, 512);

        Assert.Equal(a, b);
        Assert.All(a, p => Assert.Equal(100, p.Length));
        Assert.All(a.SelectMany(p => p), id => Assert.InRange(id, 3, 511));
        Assert.NotEqual(a[0], a[1]);
        Assert.NotEqual(a[0], ThroughputBenchmark.Prompts(4, 100, 2, 512)[0]);
    }

    // A peer that answers at once: 12.5 tok/s everywhere. Records what it was asked.
    private sealed class FixedPeer : IThroughputPeer
    {
        public List<PeerRequest> Requests { get; } = [];

        public string Name => "fixed";

        public PeerCell Measure(PeerRequest request)
        {
            Requests.Add(request);
            return new PeerCell(Name, request.Context, request.Batch, PeerStatus.Measured, null, 12.5, 80, 1.5, 1L << 30, "test double");
        }
    }
}
