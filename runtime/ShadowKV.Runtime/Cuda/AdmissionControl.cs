using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;

namespace ShadowKV.Runtime.Cuda;

/// <summary>What a request will allocate, and what the user can change to make it smaller.</summary>
/// <param name="Purpose">Shown in the error, e.g. "llama-3.1-8b, batch 4 × 122K tokens, ShadowKV".</param>
/// <param name="ReduceHint">What to reduce, e.g. "the batch size, the context length or the sparse budget".</param>
public sealed record MemoryRequest(long DeviceBytes, long PinnedHostBytes, string Purpose, string ReduceHint);

/// <summary>Free memory at one moment: the GPU's (cuMemGetInfo) and the host's (MemAvailable of /proc/meminfo).</summary>
public readonly record struct MemorySnapshot(long DeviceFreeBytes, long DeviceTotalBytes, long HostAvailableBytes);

/// <summary>
/// Headroom that admission keeps free. On the device: cuBLASLt/cuSOLVER workspaces made by the libraries,
/// CUDA graph executables, module code and the context's own growth. On the host: the process, the OS and page
/// cache of the memory-mapped weights.
/// </summary>
public sealed record AdmissionMargins(long DeviceReserveBytes, long HostReserveBytes)
{
    public static AdmissionMargins Default { get; } = new(DeviceReserveBytes: 1L << 30, HostReserveBytes: 4L << 30);
}

/// <summary>The request does not fit; raised before anything is allocated. The message has every number.</summary>
public sealed class AdmissionException : OutOfMemoryException
{
    public AdmissionException(string message, MemoryRequest request, MemorySnapshot snapshot)
        : base(message)
    {
        Request = request;
        Snapshot = snapshot;
    }

    public MemoryRequest Request { get; }

    public MemorySnapshot Snapshot { get; }
}

/// <summary>
/// Refuses a request that does not fit on the GPU or in host memory, before allocating anything — a clear
/// message instead of CUDA_ERROR_OUT_OF_MEMORY halfway through loading, or the OOM killer taking the process
/// when pinned memory (which cannot be swapped) exceeds what the host has.
/// </summary>
public static class AdmissionControl
{
    /// <summary>Overrides host MemAvailable, in bytes: on VMs whose memory grows on demand (Firecracker guests report
    /// a small MemTotal at first) /proc/meminfo understates what can be had.</summary>
    public const string HostAvailableVariable = "SKV_HOST_AVAILABLE_BYTES";

    /// <summary>Measures free memory now and throws <see cref="AdmissionException"/> if the request does not fit.</summary>
    public static void EnsureFits(CudaDevice device, MemoryRequest request, AdmissionMargins? margins = null)
    {
        (long free, long total) = device.MemoryInfo();
        var snapshot = new MemorySnapshot(free, total, ReadHostAvailableBytes());
        string? refusal = Evaluate(request, snapshot, margins ?? AdmissionMargins.Default);
        if (refusal is not null)
        {
            throw new AdmissionException(refusal, request, snapshot);
        }
    }

    /// <summary>The refusal message, or null when the request fits. Pure, so it is tested without a GPU.</summary>
    public static string? Evaluate(MemoryRequest request, MemorySnapshot snapshot, AdmissionMargins margins)
    {
        var problems = new List<string>();
        long deviceNeeded = request.DeviceBytes + margins.DeviceReserveBytes;
        if (request.DeviceBytes > 0 && deviceNeeded > snapshot.DeviceFreeBytes)
        {
            problems.Add(
                $"GPU memory: needs {Format(request.DeviceBytes)} + {Format(margins.DeviceReserveBytes)} reserve = {Format(deviceNeeded)}, " +
                $"but only {Format(snapshot.DeviceFreeBytes)} of {Format(snapshot.DeviceTotalBytes)} is free " +
                $"(short by {Format(deviceNeeded - snapshot.DeviceFreeBytes)})");
        }

        long hostNeeded = request.PinnedHostBytes + margins.HostReserveBytes;
        if (request.PinnedHostBytes > 0 && hostNeeded > snapshot.HostAvailableBytes)
        {
            problems.Add(
                $"pinned host memory: needs {Format(request.PinnedHostBytes)} + {Format(margins.HostReserveBytes)} reserve = {Format(hostNeeded)}, " +
                $"but only {Format(snapshot.HostAvailableBytes)} is available (MemAvailable; set {HostAvailableVariable} to override) " +
                $"(short by {Format(hostNeeded - snapshot.HostAvailableBytes)})");
        }

        return problems.Count == 0
            ? null
            : $"Not enough memory for {request.Purpose}: {string.Join("; ", problems)}. Reduce {request.ReduceHint}.";
    }

    /// <summary>Host MemAvailable in bytes (or the override); <see cref="long.MaxValue"/> when unknown (not Linux).</summary>
    public static long ReadHostAvailableBytes()
    {
        string? configured = Environment.GetEnvironmentVariable(HostAvailableVariable);
        if (long.TryParse(configured, NumberStyles.None, CultureInfo.InvariantCulture, out long overridden))
        {
            return overridden;
        }

        const string meminfo = "/proc/meminfo";
        return File.Exists(meminfo) ? ParseMemAvailable(File.ReadAllText(meminfo)) ?? long.MaxValue : long.MaxValue;
    }

    /// <summary>Parses the "MemAvailable:  123456 kB" line of /proc/meminfo.</summary>
    public static long? ParseMemAvailable(string meminfo)
    {
        foreach (string line in meminfo.Split('\n'))
        {
            if (!line.StartsWith("MemAvailable:", StringComparison.Ordinal))
            {
                continue;
            }

            string[] parts = line["MemAvailable:".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 2 && parts[1] == "kB" && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out long kib))
            {
                return kib * 1024;
            }
        }

        return null;
    }

    /// <summary>Bytes as GiB with two decimals (MiB below 1 GiB).</summary>
    public static string Format(long bytes) =>
        Math.Abs(bytes) >= 1L << 30
            ? string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):F2} GiB")
            : string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):F1} MiB");
}
