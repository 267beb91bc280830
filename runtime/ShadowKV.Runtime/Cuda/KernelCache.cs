using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Threading;

namespace ShadowKV.Runtime.Cuda;

/// <summary>Compiled kernels of one source for one architecture, from NVRTC or from the disk cache.</summary>
/// <param name="Cubin">Loadable with <see cref="CudaModule.Load(CudaDevice, CompiledKernels)"/>.</param>
/// <param name="LoweredNames">Name expression → mangled symbol in <paramref name="Cubin"/>.</param>
/// <param name="CacheKey">SHA-256 (hex) of source, sorted options, arch, NVRTC version and sorted name expressions.</param>
/// <param name="Elapsed">Compile time on a miss, read time on a hit.</param>
/// <param name="Log">NVRTC's warnings on a miss; empty on a hit.</param>
public sealed record CompiledKernels(
    string SourceName,
    string Arch,
    byte[] Cubin,
    IReadOnlyDictionary<string, string> LoweredNames,
    string CacheKey,
    bool FromCache,
    TimeSpan Elapsed,
    string Log);

/// <summary>Counters of one <see cref="KernelCache"/> (a warm start shows Misses = 0).</summary>
/// <param name="CorruptEntries">Entries that failed their checksum or did not parse, and were recompiled.</param>
/// <param name="WriteFailures">Entries that could not be stored (read-only cache folder); compilation still succeeded.</param>
public sealed record KernelCacheStats(int Hits, int Misses, int CorruptEntries, int WriteFailures, TimeSpan CompileTime);

/// <summary>
/// NVRTC compilation with an on-disk cubin cache, so a warm start compiles nothing. The folder is
/// <c>$SKV_KERNEL_CACHE</c>, else <c>~/.cache/shadowkv/kernels</c>. Entries are written to a temporary file and
/// renamed into place (atomic on one file system), carry a SHA-256 checksum, and are recompiled when corrupt.
/// Compiling needs only NVRTC (no GPU), so CI compiles every emitted kernel.
/// </summary>
public sealed partial class KernelCache
{
    public const string DirectoryVariable = "SKV_KERNEL_CACHE";

    /// <summary>Options every kernel is compiled with unless the caller passes its own.</summary>
    public static readonly IReadOnlyList<string> DefaultOptions = ["-std=c++17"];

    private int hits;
    private int misses;
    private int corrupt;
    private int writeFailures;
    private long compileTicks;

    public KernelCache(string? directory = null)
    {
        Directory = directory ?? DefaultDirectory();
    }

    public string Directory { get; }

    public KernelCacheStats Stats => new(hits, misses, corrupt, writeFailures, TimeSpan.FromTicks(Interlocked.Read(ref compileTicks)));

    public static string DefaultDirectory()
    {
        string? configured = Environment.GetEnvironmentVariable(DirectoryVariable);
        if (!string.IsNullOrEmpty(configured))
        {
            return configured;
        }

        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return Path.Combine(home, ".cache", "shadowkv", "kernels");
    }

    /// <summary>
    /// Returns the cubin and lowered names of <paramref name="nameExpressions"/> (kernel names or template
    /// instantiations such as <c>"llama_decode_attention&lt;128,4&gt;"</c>) compiled for <paramref name="arch"/>
    /// (e.g. <see cref="CudaDevice.Arch"/>), from the cache when present.
    /// </summary>
    /// <param name="sourceName">Shown in NVRTC's diagnostics, e.g. <c>llama_decode.cu</c>.</param>
    /// <param name="options">NVRTC options without the architecture; <see cref="DefaultOptions"/> when null.</param>
    /// <exception cref="Interop.NvrtcException">The source does not compile; carries the log.</exception>
    public CompiledKernels Compile(
        string sourceName, string source, string arch, IReadOnlyList<string> nameExpressions, IReadOnlyList<string>? options = null)
    {
        options ??= DefaultOptions;
        foreach (string option in options)
        {
            if (option.StartsWith("-arch", StringComparison.Ordinal) || option.StartsWith("--gpu-architecture", StringComparison.Ordinal))
            {
                throw new ArgumentException($"Pass the architecture as '{nameof(arch)}', not as option '{option}'.", nameof(options));
            }
        }

        (int major, int minor) = NvrtcCompiler.Version;
        string key = Key(source, options, arch, $"{major}.{minor}", nameExpressions);
        string path = Path.Combine(Directory, key + EntryExtension);

        var clock = Stopwatch.StartNew();
        switch (TryRead(path, key, nameExpressions, out byte[] cubin, out Dictionary<string, string> lowered))
        {
            case ReadOutcome.Hit:
                Interlocked.Increment(ref hits);
                return new CompiledKernels(sourceName, arch, cubin, lowered, key, FromCache: true, clock.Elapsed, Log: "");
            case ReadOutcome.Corrupt:
                Interlocked.Increment(ref corrupt);
                break;
        }

        string[] allOptions = [.. options, $"--gpu-architecture={arch}"];
        NvrtcOutput output = NvrtcCompiler.Compile(sourceName, source, allOptions, nameExpressions);
        TimeSpan elapsed = clock.Elapsed;
        Interlocked.Increment(ref misses);
        Interlocked.Add(ref compileTicks, elapsed.Ticks);

        if (!TryWrite(path, key, output.Image, output.LoweredNames))
        {
            Interlocked.Increment(ref writeFailures);
        }

        return new CompiledKernels(sourceName, arch, output.Image, output.LoweredNames, key, FromCache: false, elapsed, output.Log);
    }

    /// <summary>The cache key: every input that changes the cubin, in a canonical (length-prefixed, sorted) form.</summary>
    public static string Key(
        string source, IReadOnlyList<string> options, string arch, string nvrtcVersion, IReadOnlyList<string> nameExpressions)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write("shadowkv-kernel-cache/1");
            writer.Write(source);
            WriteSorted(writer, options);
            writer.Write(arch);
            writer.Write(nvrtcVersion);
            WriteSorted(writer, nameExpressions);
        }

        return Convert.ToHexStringLower(SHA256.HashData(stream.GetBuffer().AsSpan(0, (int)stream.Length)));
    }

    private static void WriteSorted(BinaryWriter writer, IReadOnlyList<string> values)
    {
        string[] sorted = [.. values];
        Array.Sort(sorted, StringComparer.Ordinal);
        writer.Write(sorted.Length);
        foreach (string value in sorted)
        {
            writer.Write(value);
        }
    }
}
