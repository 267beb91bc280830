using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ShadowKV.Runtime.Engine.Checkpoints;

namespace ShadowKV.Runtime.Engine.Benchmarking;

/// <summary>
/// The Hugging Face transformers peer: runs <c>hf_decode.py</c> (a LlamaForCausalLM of the same shape with random bf16
/// weights on the GPU, SDPA attention, full attention only) once per (context, batch) and reads the one JSON line it
/// prints. A missing python, torch or GPU is reported as <see cref="PeerStatus.Unavailable"/> once and not retried.
/// </summary>
public sealed class HuggingFacePeer : IThroughputPeer
{
    /// <summary>The python interpreter to run the script with (default <c>python3</c> on the PATH).</summary>
    public const string PythonVariable = "SKV_PYTHON";

    /// <summary>The script's path relative to the skv binary (the CLI project copies it there) and to the repository.</summary>
    public const string ScriptName = "peer/hf_decode.py";

    private readonly string _script;
    private readonly string _python;
    private readonly TimeSpan _timeout;
    private string? _unavailable;

    /// <param name="script">Path of hf_decode.py.</param>
    /// <param name="python">Interpreter; null: <see cref="PythonVariable"/>, else <c>python3</c>.</param>
    /// <param name="timeout">Longest one cell may take (model build, prefill and decode) before it is stopped.</param>
    public HuggingFacePeer(string script, string? python = null, TimeSpan? timeout = null)
    {
        _script = script;
        string? configured = Environment.GetEnvironmentVariable(PythonVariable);
        _python = python ?? (string.IsNullOrEmpty(configured) ? "python3" : configured);
        _timeout = timeout ?? TimeSpan.FromMinutes(30);
    }

    public string Name => "hf";

    /// <summary>
    /// Where the script is: beside the binary (<paramref name="baseDirectory"/>/peer, as published), else in the
    /// repository's benchmarks/peer above it (a build output inside the repository); null when neither exists.
    /// </summary>
    public static string? FindScript(string baseDirectory)
    {
        string beside = Path.Combine(baseDirectory, ScriptName);
        if (File.Exists(beside))
        {
            return beside;
        }

        for (DirectoryInfo? folder = new(baseDirectory); folder is not null; folder = folder.Parent)
        {
            string inRepository = Path.Combine(folder.FullName, "benchmarks", ScriptName);
            if (File.Exists(inRepository))
            {
                return inRepository;
            }
        }

        return null;
    }

    public PeerCell Measure(PeerRequest request)
    {
        if (_unavailable is not null)
        {
            return Cell(request, PeerStatus.Unavailable, _unavailable);
        }

        if (!File.Exists(_script))
        {
            return Remember(request, $"script not found: {_script}");
        }

        string config = Path.Combine(Path.GetTempPath(), $"skv-bench-{Environment.ProcessId}-{Guid.NewGuid():N}.json");
        try
        {
            File.WriteAllText(config, ShapeJson(request.Config));
            var start = new ProcessStartInfo(_python)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (string argument in (string[])[_script, "--config", config, "--context", Invariant(request.Context), "--batch", Invariant(request.Batch),
                "--warmup", Invariant(request.WarmupSteps), "--steps", Invariant(request.DecodeSteps), "--seed", Invariant(request.Seed)])
            {
                start.ArgumentList.Add(argument);
            }

            using Process process = Process.Start(start) ?? throw new Win32Exception($"{_python} did not start");
            Task<string> error = process.StandardError.ReadToEndAsync();
            Task<string> output = process.StandardOutput.ReadToEndAsync();
            if (!process.WaitForExit(_timeout))
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(); // its GPU memory is free only once it has exited: the next cell's admission needs it
                return Cell(request, PeerStatus.Failed, $"stopped after {_timeout.TotalMinutes:F0} minutes");
            }

            PeerCell cell = Parse(request, output.GetAwaiter().GetResult(), error.GetAwaiter().GetResult(), process.ExitCode);
            return cell.Status == PeerStatus.Unavailable ? Remember(request, cell.Reason ?? "unavailable") : cell;
        }
        catch (Win32Exception exception)
        {
            return Remember(request, $"cannot run {_python} ({exception.Message}); set {PythonVariable} to a python with torch and transformers");
        }
        finally
        {
            File.Delete(config);
        }
    }

    /// <summary>Reads the script's result: the last stdout line that is a JSON object; without one, the exit code and stderr's tail.</summary>
    public PeerCell Parse(PeerRequest request, string stdout, string stderr, int exitCode)
    {
        string? line = stdout.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.StartsWith('{'));
        if (line is null)
        {
            string tail = string.Join(" | ", stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).TakeLast(3));
            return Cell(request, PeerStatus.Failed, $"{Path.GetFileName(_script)} exited with {exitCode} and printed no result{(tail.Length > 0 ? ": " + tail : "")}");
        }

        try
        {
            using JsonDocument document = JsonDocument.Parse(line);
            JsonElement root = document.RootElement;
            string status = Text(root, "status") ?? "error";
            string? reason = Text(root, "error");
            string details = string.Join(", ", new[]
            {
                Text(root, "attn") is { } attn ? $"attention {attn}" : null,
                Text(root, "cache") is { } cache ? $"{cache} cache" : null,
                Number(root, "prefill_chunk") is { } chunk ? string.Create(CultureInfo.InvariantCulture, $"prefill in chunks of {chunk:F0}") : null,
                Text(root, "device"),
                Text(root, "torch") is { } torch ? $"torch {torch}" : null,
                Text(root, "transformers") is { } transformers ? $"transformers {transformers}" : null,
            }.OfType<string>());
            PeerStatus kind = status switch
            {
                "ok" => PeerStatus.Measured,
                "unavailable" => PeerStatus.Unavailable,
                "out of memory" => PeerStatus.DoesNotFit,
                _ => PeerStatus.Failed,
            };
            return new PeerCell(Name, request.Context, request.Batch, kind, kind == PeerStatus.Measured ? null : reason ?? status,
                Number(root, "tokens_per_second"), Number(root, "ms_per_step"), Number(root, "prefill_seconds"),
                Number(root, "peak_memory_bytes") is double peak ? (long)peak : null, details.Length > 0 ? details : null);
        }
        catch (JsonException exception)
        {
            return Cell(request, PeerStatus.Failed, $"unreadable result line ({exception.Message}): {line}");
        }
    }

    /// <summary>The model's shape as the script reads it (Hugging Face config names).</summary>
    public static string ShapeJson(ModelConfig config)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteNumber("vocab_size", config.VocabSize);
            json.WriteNumber("hidden_size", config.HiddenSize);
            json.WriteNumber("intermediate_size", config.IntermediateSize);
            json.WriteNumber("num_hidden_layers", config.NumHiddenLayers);
            json.WriteNumber("num_attention_heads", config.NumAttentionHeads);
            json.WriteNumber("num_key_value_heads", config.NumKeyValueHeads);
            json.WriteNumber("head_dim", config.HeadDim);
            json.WriteNumber("max_position_embeddings", config.MaxPositionEmbeddings);
            json.WriteNumber("rms_norm_eps", config.RmsNormEps);
            json.WriteNumber("rope_theta", config.RopeTheta);
            json.WriteBoolean("tie_word_embeddings", config.TieWordEmbeddings);
            json.WriteBoolean("attention_bias", config.AttentionBias);
            if (config.RopeScaling is { } scaling)
            {
                json.WriteStartObject("rope_scaling");
                json.WriteString("rope_type", scaling.RopeType);
                json.WriteNumber("factor", scaling.Factor);
                json.WriteNumber("low_freq_factor", scaling.LowFreqFactor);
                json.WriteNumber("high_freq_factor", scaling.HighFreqFactor);
                json.WriteNumber("original_max_position_embeddings", scaling.OriginalMaxPositionEmbeddings);
                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    private PeerCell Remember(PeerRequest request, string reason)
    {
        _unavailable = reason;
        return Cell(request, PeerStatus.Unavailable, reason);
    }

    private PeerCell Cell(PeerRequest request, PeerStatus status, string reason) =>
        new(Name, request.Context, request.Batch, status, reason, null, null, null, null, null);

    private static string? Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static double? Number(JsonElement root, string name) =>
        root.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble() : null;

    private static string Invariant<T>(T value) where T : IFormattable => value.ToString(null, CultureInfo.InvariantCulture);
}
