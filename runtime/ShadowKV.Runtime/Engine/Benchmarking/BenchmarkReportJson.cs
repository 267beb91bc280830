using System.Text.Json;
using System.Text.Json.Serialization;

namespace ShadowKV.Runtime.Engine.Benchmarking;

/// <summary>The report as JSON (snake_case, enums as strings): what <c>skv bench --json</c> writes and tools read back.</summary>
public static class BenchmarkReportJson
{
    public static string Write(BenchmarkReport report) => JsonSerializer.Serialize(report, BenchmarkJsonContext.Default.BenchmarkReport);

    /// <summary>Reads a report written by <see cref="Write"/>; malformed text throws <see cref="JsonException"/>.</summary>
    public static BenchmarkReport Read(string json) =>
        JsonSerializer.Deserialize(json, BenchmarkJsonContext.Default.BenchmarkReport)
        ?? throw new JsonException("The benchmark JSON is null.");
}

// Source-generated so the runtime stays trimming- and AOT-safe (no reflection-based serialisation).
[JsonSourceGenerationOptions(
    WriteIndented = true,
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    UseStringEnumConverter = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(BenchmarkReport))]
internal sealed partial class BenchmarkJsonContext : JsonSerializerContext;
