using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;

namespace ShadowKV.Runtime.Interop;

/// <summary>A CUDA driver call failed. The message names the call and the driver's error name.</summary>
public sealed class CudaException : Exception
{
    public CudaException(CuResult result, string call, string? context = null)
        : base(Format(result, call, context))
    {
        Result = result;
        Call = call;
    }

    public CuResult Result { get; }

    /// <summary>The C# expression of the failing call, e.g. <c>CudaDriver.cuMemAlloc(out ptr, bytes)</c>.</summary>
    public string Call { get; }

    /// <summary>Throws unless <paramref name="result"/> is success. <paramref name="context"/> adds what the call was
    /// for (a kernel name, a buffer size).</summary>
    public static void ThrowIfFailed(
        CuResult result,
        string? context = null,
        [CallerArgumentExpression(nameof(result))] string call = "")
    {
        if (result != CuResult.Success)
        {
            throw new CudaException(result, call, context);
        }
    }

    private static string Format(CuResult result, string call, string? context) =>
        $"{call} failed with {CudaDriver.Describe(result)}" + (context is null ? "" : $" ({context})");
}

/// <summary>NVRTC failed; for compile errors the message carries the source name, the options and the full log.</summary>
public sealed class NvrtcException : Exception
{
    public NvrtcException(NvrtcResult result, string call, string sourceName, IReadOnlyList<string> options, string log)
        : base(Format(result, call, sourceName, options, log))
    {
        Result = result;
        SourceName = sourceName;
        Options = options;
        Log = log;
    }

    public NvrtcResult Result { get; }

    public string SourceName { get; }

    public IReadOnlyList<string> Options { get; }

    /// <summary>The compiler's log (errors and warnings, with line numbers of <see cref="SourceName"/>).</summary>
    public string Log { get; }

    private static string Format(NvrtcResult result, string call, string sourceName, IReadOnlyList<string> options, string log) =>
        $"NVRTC {call} failed for '{sourceName}' with {Nvrtc.Describe(result)}" + Environment.NewLine +
        $"options: {string.Join(' ', options)}" +
        (log.Length == 0 ? "" : Environment.NewLine + "log:" + Environment.NewLine + log);
}

/// <summary>A cuBLASLt call failed; the message names the call, the status name and what was being multiplied.</summary>
public sealed class CublasException : Exception
{
    public CublasException(CublasStatus status, string call, string? context = null)
        : base($"{call} failed with {CublasLt.Describe(status)}" + (context is null ? "" : $" ({context})"))
    {
        Status = status;
    }

    public CublasStatus Status { get; }

    public static void ThrowIfFailed(
        CublasStatus status,
        string? context = null,
        [CallerArgumentExpression(nameof(status))] string call = "")
    {
        if (status != CublasStatus.Success)
        {
            throw new CublasException(status, call, context);
        }
    }
}

/// <summary>A cuSOLVER call failed (or reported a non-zero <c>info</c>).</summary>
public sealed class CusolverException : Exception
{
    public CusolverException(CusolverStatus status, string call, string? context = null)
        : base($"{call} failed with cusolverStatus {(int)status} ({status})" + (context is null ? "" : $" ({context})"))
    {
        Status = status;
    }

    public CusolverStatus Status { get; }

    public static void ThrowIfFailed(
        CusolverStatus status,
        string? context = null,
        [CallerArgumentExpression(nameof(status))] string call = "")
    {
        if (status != CusolverStatus.Success)
        {
            throw new CusolverException(status, call, context);
        }
    }
}
