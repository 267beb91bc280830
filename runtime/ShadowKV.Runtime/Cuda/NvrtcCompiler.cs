using System;
using ShadowKV.Runtime.Interop;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;

namespace ShadowKV.Runtime.Cuda;

/// <summary>What one NVRTC compilation produced.</summary>
/// <param name="Image">The cubin (real architecture) or NUL-terminated PTX (virtual architecture).</param>
/// <param name="LoweredNames">Name expression → mangled symbol, e.g. <c>llama_decode_attention&lt;128,4&gt;</c> →
/// <c>_Z22llama_decode_attentionILi128ELi4EEvv</c>.</param>
/// <param name="Log">Warnings (empty when clean).</param>
public sealed record NvrtcOutput(byte[] Image, IReadOnlyDictionary<string, string> LoweredNames, string Log);

/// <summary>
/// NVRTC without a cache: one call compiles one source. Needs no GPU. NVRTC is thread-safe for distinct programs,
/// so independent sources may compile in parallel.
/// </summary>
public static unsafe class NvrtcCompiler
{
    private static readonly Lazy<(int Major, int Minor)> LoadedVersion = new(() =>
    {
        Check(Nvrtc.nvrtcVersion(out int major, out int minor), "(version)", []);
        return (major, minor);
    });

    /// <summary>The loaded NVRTC's version; throws <see cref="NativeLibraryNotFoundException"/> when none loads.</summary>
    public static (int Major, int Minor) Version => LoadedVersion.Value;

    /// <summary>True when an NVRTC library loads; otherwise <paramref name="reason"/> lists the names tried.</summary>
    public static bool IsAvailable(out string? reason) => NativeLibraries.TryLoad(NativeLibraries.Nvrtc, out reason);

    /// <summary>The real architectures this NVRTC can target, as "sm_XY" (e.g. 11.8: sm_35 … sm_90).</summary>
    public static IReadOnlyList<string> SupportedArchs()
    {
        Check(Nvrtc.nvrtcGetNumSupportedArchs(out int count), "(archs)", []);
        var archs = new int[count];
        fixed (int* p = archs)
        {
            Check(Nvrtc.nvrtcGetSupportedArchs(p), "(archs)", []);
        }

        return archs.Select(a => $"sm_{a}").ToArray();
    }

    /// <summary>
    /// Compiles <paramref name="source"/> with <paramref name="options"/> (which must name the architecture, e.g.
    /// <c>--gpu-architecture=sm_90a</c>) and returns the cubin and the lowered name of each name expression.
    /// Throws <see cref="NvrtcException"/> carrying the full log when compilation fails.
    /// </summary>
    public static NvrtcOutput Compile(
        string sourceName, string source, IReadOnlyList<string> options, IReadOnlyList<string> nameExpressions) =>
        CompileCore(sourceName, source, options, nameExpressions, ptx: false);

    /// <summary>As <see cref="Compile"/>, but returns PTX (for a virtual <c>compute_XY</c> architecture); for
    /// reading the generated code, not for loading.</summary>
    public static NvrtcOutput CompileToPtx(
        string sourceName, string source, IReadOnlyList<string> options, IReadOnlyList<string> nameExpressions) =>
        CompileCore(sourceName, source, options, nameExpressions, ptx: true);

    private static NvrtcOutput CompileCore(
        string sourceName, string source, IReadOnlyList<string> options, IReadOnlyList<string> nameExpressions, bool ptx)
    {
        using var text = new Utf8Strings([source, sourceName]);
        using var optionStrings = new Utf8Strings(options);
        using var names = new Utf8Strings(nameExpressions);

        Check(Nvrtc.nvrtcCreateProgram(out nint program, text[0], text[1], 0, null, null), sourceName, options);
        try
        {
            for (int i = 0; i < names.Count; i++)
            {
                Check(Nvrtc.nvrtcAddNameExpression(program, names[i]), sourceName, options);
            }

            NvrtcResult compiled = Nvrtc.nvrtcCompileProgram(program, optionStrings.Count, optionStrings.Array);
            string log = ReadLog(program);
            if (compiled != NvrtcResult.Success)
            {
                throw new NvrtcException(compiled, "nvrtcCompileProgram", sourceName, options, log);
            }

            var lowered = new Dictionary<string, string>(StringComparer.Ordinal);
            for (int i = 0; i < names.Count; i++)
            {
                Check(Nvrtc.nvrtcGetLoweredName(program, names[i], out byte* name), sourceName, options, log);
                lowered[nameExpressions[i]] = Marshal.PtrToStringUTF8((nint)name)!;
            }

            byte[] image = ptx ? ReadPtx(program, sourceName, options) : ReadCubin(program, sourceName, options);
            return new NvrtcOutput(image, lowered, log);
        }
        finally
        {
            Nvrtc.nvrtcDestroyProgram(ref program);
        }
    }

    private static byte[] ReadCubin(nint program, string sourceName, IReadOnlyList<string> options)
    {
        Check(Nvrtc.nvrtcGetCUBINSize(program, out nuint size), sourceName, options);
        if (size == 0)
        {
            throw new NvrtcException(NvrtcResult.InvalidOption, "nvrtcGetCUBINSize", sourceName, options,
                "No cubin was produced: compile for a real architecture (sm_XY), not a virtual one (compute_XY).");
        }

        var cubin = new byte[(int)size];
        fixed (byte* p = cubin)
        {
            Check(Nvrtc.nvrtcGetCUBIN(program, p), sourceName, options);
        }

        return cubin;
    }

    private static byte[] ReadPtx(nint program, string sourceName, IReadOnlyList<string> options)
    {
        Check(Nvrtc.nvrtcGetPTXSize(program, out nuint size), sourceName, options);
        var ptx = new byte[(int)size];
        fixed (byte* p = ptx)
        {
            Check(Nvrtc.nvrtcGetPTX(program, p), sourceName, options);
        }

        return ptx;
    }

    private static string ReadLog(nint program)
    {
        if (Nvrtc.nvrtcGetProgramLogSize(program, out nuint size) != NvrtcResult.Success || size <= 1)
        {
            return "";
        }

        var log = new byte[(int)size];
        fixed (byte* p = log)
        {
            if (Nvrtc.nvrtcGetProgramLog(program, p) != NvrtcResult.Success)
            {
                return "";
            }
        }

        return System.Text.Encoding.UTF8.GetString(log, 0, log.Length - 1).TrimEnd();
    }

    private static void Check(
        NvrtcResult result, string sourceName, IReadOnlyList<string> options, string log = "",
        [CallerArgumentExpression(nameof(result))] string call = "")
    {
        if (result != NvrtcResult.Success)
        {
            throw new NvrtcException(result, call, sourceName, options, log);
        }
    }
}
