using System;
using ShadowKV.Runtime.Cuda;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace ShadowKV.Runtime.Tests.Cuda;

public sealed class AdmissionControlTests
{
    private const long GiB = 1L << 30;
    private static readonly AdmissionMargins Margins = new(DeviceReserveBytes: 1 * GiB, HostReserveBytes: 4 * GiB);
    private static readonly MemorySnapshot H100 = new(DeviceFreeBytes: 79 * GiB, DeviceTotalBytes: 80 * GiB, HostAvailableBytes: 120 * GiB);

    [Fact]
    public void A_request_that_fits_is_admitted()
    {
        var request = new MemoryRequest(DeviceBytes: 70 * GiB, PinnedHostBytes: 100 * GiB, "batch 4", "the batch size");

        Assert.Null(AdmissionControl.Evaluate(request, H100, Margins));
    }

    [Fact]
    public void Too_much_device_memory_is_refused_with_the_numbers_and_what_to_reduce()
    {
        var request = new MemoryRequest(DeviceBytes: 90 * GiB, PinnedHostBytes: 0, "llama-3.1-8b batch 6 × 60K", "the batch size or the context length");

        string? refusal = AdmissionControl.Evaluate(request, H100, Margins);

        Assert.NotNull(refusal);
        Assert.Contains("llama-3.1-8b batch 6 × 60K", refusal, StringComparison.Ordinal);
        Assert.Contains("GPU memory: needs 90.00 GiB + 1.00 GiB reserve = 91.00 GiB", refusal, StringComparison.Ordinal);
        Assert.Contains("only 79.00 GiB of 80.00 GiB is free (short by 12.00 GiB)", refusal, StringComparison.Ordinal);
        Assert.Contains("Reduce the batch size or the context length.", refusal, StringComparison.Ordinal);
        Assert.DoesNotContain("pinned", refusal, StringComparison.Ordinal);
    }

    [Fact]
    public void The_reserve_counts_against_device_memory()
    {
        var request = new MemoryRequest(DeviceBytes: 78 * GiB + 1, PinnedHostBytes: 0, "r", "x");

        Assert.NotNull(AdmissionControl.Evaluate(request, H100, Margins));
        Assert.Null(AdmissionControl.Evaluate(request with { DeviceBytes = 78 * GiB }, H100, Margins));
    }

    [Fact]
    public void Too_much_pinned_host_memory_is_refused()
    {
        var request = new MemoryRequest(DeviceBytes: GiB, PinnedHostBytes: 118 * GiB, "offloaded values", "the context length");

        string? refusal = AdmissionControl.Evaluate(request, H100, Margins);

        Assert.NotNull(refusal);
        Assert.Contains("pinned host memory: needs 118.00 GiB + 4.00 GiB reserve = 122.00 GiB", refusal, StringComparison.Ordinal);
        Assert.Contains("only 120.00 GiB is available", refusal, StringComparison.Ordinal);
        Assert.Contains(AdmissionControl.HostAvailableVariable, refusal, StringComparison.Ordinal);
    }

    [Fact]
    public void MemAvailable_is_read_in_bytes()
    {
        const string meminfo = "MemTotal:       131072000 kB\nMemFree:         1000 kB\nMemAvailable:   125829120 kB\nBuffers: 1 kB\n";

        Assert.Equal(125829120L * 1024, AdmissionControl.ParseMemAvailable(meminfo));
        Assert.Null(AdmissionControl.ParseMemAvailable("MemTotal: 1 kB\n"));
    }

    [Fact]
    public void This_machine_reports_some_available_host_memory()
    {
        Assert.True(AdmissionControl.ReadHostAvailableBytes() > 0);
    }
}
