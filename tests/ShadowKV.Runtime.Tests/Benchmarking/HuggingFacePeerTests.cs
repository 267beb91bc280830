using ShadowKV.Runtime.Engine.Benchmarking;
using ShadowKV.Runtime.Engine.Checkpoints;

namespace ShadowKV.Runtime.Tests.Benchmarking;

// The peer runner without python or torch: how it finds the script, reports a missing interpreter and reads results.
public sealed class HuggingFacePeerTests
{
    private static readonly PeerRequest Request = new(ModelConfig.Preset("tiny-llama3"), 4096, 2, 2, 32, 0);

    [Fact]
    public void TheScriptIsFoundBesideTheBinaryOrInTheRepository()
    {
        string? script = HuggingFacePeer.FindScript(AppContext.BaseDirectory);

        Assert.NotNull(script);
        Assert.EndsWith(Path.Combine("peer", "hf_decode.py"), script, StringComparison.Ordinal);
    }

    [Fact]
    public void AMissingPythonIsReportedAsUnavailableOnceAndNotRetried()
    {
        string script = HuggingFacePeer.FindScript(AppContext.BaseDirectory)!;
        var peer = new HuggingFacePeer(script, python: "/no/such/python3");

        PeerCell first = peer.Measure(Request);
        PeerCell second = peer.Measure(Request with { Context = 8192 });

        Assert.Equal(PeerStatus.Unavailable, first.Status);
        Assert.Contains("/no/such/python3", first.Reason, StringComparison.Ordinal);
        Assert.Contains(HuggingFacePeer.PythonVariable, first.Reason, StringComparison.Ordinal);
        Assert.Equal(PeerStatus.Unavailable, second.Status);
        Assert.Equal(8192, second.Context);
    }

    [Fact]
    public void ResultLinesAreRead()
    {
        var peer = new HuggingFacePeer("hf_decode.py", python: "python3");
        const string ok = """{"status": "ok", "tokens_per_second": 20.5, "ms_per_step": 195.1, "prefill_seconds": 12.0, "peak_memory_bytes": 60000000000, "cache": "static", "attn": "sdpa", "prefill_chunk": 8192, "torch": "2.11.0", "transformers": "5.17.0", "device": "NVIDIA H100 80GB HBM3"}""";

        PeerCell measured = peer.Parse(Request, "model built\n" + ok + "\n", "", 0);
        PeerCell oom = peer.Parse(Request, """{"status": "out of memory", "error": "out of memory: CUDA out of memory. Tried to allocate 2.00 GiB"}""", "", 0);
        PeerCell missing = peer.Parse(Request, """{"status": "unavailable", "error": "No module named 'torch'"}""", "", 0);
        PeerCell crashed = peer.Parse(Request, "", "Traceback (most recent call last):\nValueError: bad shape\n", 1);

        Assert.Equal(PeerStatus.Measured, measured.Status);
        Assert.Equal(20.5, measured.TokensPerSecond);
        Assert.Equal(60_000_000_000, measured.PeakMemoryBytes);
        Assert.Contains("static cache", measured.Details, StringComparison.Ordinal);
        Assert.Contains("transformers 5.17.0", measured.Details, StringComparison.Ordinal);
        Assert.Equal(PeerStatus.DoesNotFit, oom.Status);
        Assert.StartsWith("out of memory", oom.Reason, StringComparison.Ordinal);
        Assert.Equal(PeerStatus.Unavailable, missing.Status);
        Assert.Equal(PeerStatus.Failed, crashed.Status);
        Assert.Contains("ValueError: bad shape", crashed.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void TheShapeIsWrittenWithHuggingFaceNames()
    {
        string json = HuggingFacePeer.ShapeJson(ModelConfig.Preset("llama-3.1-8b"));

        using var document = System.Text.Json.JsonDocument.Parse(json);
        var root = document.RootElement;
        Assert.Equal(32, root.GetProperty("num_hidden_layers").GetInt32());
        Assert.Equal(8, root.GetProperty("num_key_value_heads").GetInt32());
        Assert.Equal(128256, root.GetProperty("vocab_size").GetInt32());
        Assert.Equal("llama3", root.GetProperty("rope_scaling").GetProperty("rope_type").GetString());
    }
}
