using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Threading;

namespace ShadowKV.Runtime.Interop;

/// <summary>
/// The one place that maps the logical library names used by every <c>[LibraryImport]</c> in this assembly to the
/// versioned shared objects of the CUDA toolkit, and explains which names were tried when none loads.
/// </summary>
/// <remarks>
/// .NET allows one <see cref="DllImportResolver"/> per assembly, so any other native library this assembly binds
/// must be added here, not registered elsewhere.
/// </remarks>
public static class NativeLibraries
{
    // Logical names: what [LibraryImport] sees. They are never file names, so the default probing cannot pick up
    // an unversioned development symlink (libcuda.so is the toolkit's stub on build machines and fails at run time).
    public const string CudaDriver = "skv-cuda";
    public const string Nvrtc = "skv-nvrtc";
    public const string CublasLt = "skv-cublaslt";
    public const string Cusolver = "skv-cusolver";

    /// <summary>Candidate sonames, newest first. The first that loads wins.</summary>
    public static IReadOnlyList<string> CandidatesFor(string logicalName) => logicalName switch
    {
        // The driver keeps soname .1 across CUDA versions.
        CudaDriver => ["libcuda.so.1"],
        // NVRTC: CUDA 13 → .so.13, CUDA 12 → .so.12, CUDA 11.2–11.8 → .so.11.2 (Debian's libnvrtc11.2 package).
        Nvrtc => ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2"],
        CublasLt => ["libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so.11"],
        // cuSOLVER's soname follows its own version, not the toolkit's (CUDA 12.x ships libcusolver.so.11), so
        // every plausible name is tried.
        Cusolver => ["libcusolver.so.13", "libcusolver.so.12", "libcusolver.so.11"],
        _ => throw new ArgumentException($"Unknown native library '{logicalName}'.", nameof(logicalName)),
    };

    private static string DisplayName(string logicalName) => logicalName switch
    {
        CudaDriver => "the CUDA driver",
        Nvrtc => "NVRTC (CUDA runtime compilation)",
        CublasLt => "cuBLASLt",
        Cusolver => "cuSOLVER",
        _ => logicalName,
    };

    private static readonly ConcurrentDictionary<string, Lazy<LoadResult>> Loaded = new(StringComparer.Ordinal);
    private static readonly object RegistrationLock = new();
    private static bool registered;

    /// <summary>
    /// Registers the resolver when this assembly loads: a module initializer is the only hook guaranteed to run
    /// before the first <c>[LibraryImport]</c> stub binds (a static constructor does not cover extern stubs).
    /// </summary>
#pragma warning disable CA2255 // ModuleInitializer in a library: intended, the resolver must precede every P/Invoke.
    [System.Runtime.CompilerServices.ModuleInitializer]
#pragma warning restore CA2255
    internal static void EnsureResolverRegistered()
    {
        lock (RegistrationLock)
        {
            if (registered)
            {
                return;
            }

            NativeLibrary.SetDllImportResolver(typeof(NativeLibraries).Assembly, Resolve);
            registered = true;
        }
    }

    /// <summary>Loads the library (cached); throws <see cref="NativeLibraryNotFoundException"/> when none loads.</summary>
    public static nint Load(string logicalName)
    {
        LoadResult result = Loaded.GetOrAdd(logicalName, name => new Lazy<LoadResult>(() => LoadFirst(DisplayName(name), CandidatesFor(name)))).Value;
        return result.Handle != 0 ? result.Handle : throw result.Failure!;
    }

    /// <summary>True when the library loads; <paramref name="reason"/> says why not otherwise.</summary>
    public static bool TryLoad(string logicalName, out string? reason)
    {
        try
        {
            Load(logicalName);
            reason = null;
            return true;
        }
        catch (NativeLibraryNotFoundException e)
        {
            reason = e.Message;
            return false;
        }
    }

    /// <summary>The candidate that loaded, for diagnostics (<c>skv info</c>); null when none did.</summary>
    public static string? LoadedFileName(string logicalName) =>
        Loaded.TryGetValue(logicalName, out Lazy<LoadResult>? lazy) && lazy.IsValueCreated ? lazy.Value.FileName : null;

    /// <summary>Tries each candidate in order. Exposed for tests of the error message.</summary>
    internal static nint LoadFirstOrThrow(string displayName, IReadOnlyList<string> candidates)
    {
        LoadResult result = LoadFirst(displayName, candidates);
        return result.Handle != 0 ? result.Handle : throw result.Failure!;
    }

    private static LoadResult LoadFirst(string displayName, IReadOnlyList<string> candidates)
    {
        var errors = new List<string>();
        foreach (string candidate in candidates)
        {
            try
            {
                return new LoadResult(NativeLibrary.Load(candidate), candidate, null);
            }
            catch (DllNotFoundException e)
            {
                // The last line of the message is dlerror()'s, which says *why*: a missing file, or a missing
                // dependency (libcusolver needs libcublas and libcusparse of the same toolkit).
                errors.Add($"  {candidate} → {LastLine(e.Message)}");
            }
        }

        string ldPath = Environment.GetEnvironmentVariable("LD_LIBRARY_PATH") ?? "(unset)";
        string message =
            $"Could not load {displayName}; tried, in order:{Environment.NewLine}" +
            string.Join(Environment.NewLine, errors) + Environment.NewLine +
            $"Install the CUDA toolkit library (or the driver for libcuda.so.1) or add its folder to LD_LIBRARY_PATH " +
            $"(now: {ldPath}); e.g. export LD_LIBRARY_PATH=/usr/local/cuda/targets/x86_64-linux/lib:$LD_LIBRARY_PATH";
        return new LoadResult(0, null, new NativeLibraryNotFoundException(displayName, candidates, message));
    }

    private static nint Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) =>
        libraryName is CudaDriver or Nvrtc or CublasLt or Cusolver ? Load(libraryName) : 0;

    private static string LastLine(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? text;

    private sealed record LoadResult(nint Handle, string? FileName, NativeLibraryNotFoundException? Failure);
}

/// <summary>None of a library's versioned names could be loaded; the message lists each name and why it failed.</summary>
public sealed class NativeLibraryNotFoundException : DllNotFoundException
{
    public NativeLibraryNotFoundException(string library, IReadOnlyList<string> triedNames, string message)
        : base(message)
    {
        Library = library;
        TriedNames = triedNames;
    }

    public string Library { get; }

    public IReadOnlyList<string> TriedNames { get; }
}
