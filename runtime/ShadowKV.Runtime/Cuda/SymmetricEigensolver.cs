using System;
using ShadowKV.Runtime.Interop;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;

namespace ShadowKV.Runtime.Cuda;

/// <summary>
/// Eigen-decomposition of a symmetric n × n fp32 matrix on the GPU (cuSOLVER syevd, divide and conquer): the
/// ShadowKV prefill factorises each layer's pre-RoPE keys through the eigenvectors of KᵀK without a CPU round trip.
/// </summary>
/// <remarks>
/// Row-major and column-major agree on a symmetric input. The output eigenvectors are columns of a column-major
/// matrix, so in row-major terms row i of the overwritten matrix is the eigenvector of eigenvalue i.
/// Eigenvalues come out ascending.
/// </remarks>
public sealed class SymmetricEigensolver : IDisposable
{
    private const int InfoBytes = DeviceArena.Alignment; // the device int 'info', padded so work stays aligned

    private readonly CudaDevice device;
    private readonly int lworkElements;
    private nint handle;

    public SymmetricEigensolver(CudaDevice device, int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        this.device = device;
        N = n;
        device.MakeCurrent();
        CusolverException.ThrowIfFailed(Cusolver.cusolverDnCreate(out handle));
        try
        {
            lworkElements = QueryWorkElements(handle, n);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public int N { get; }

    /// <summary>Device workspace <see cref="Solve"/> needs: syevd's work array plus the status word.</summary>
    public long WorkspaceBytes => InfoBytes + (long)lworkElements * sizeof(float);

    /// <summary>
    /// Enqueues the decomposition of <paramref name="matrix"/> ([n, n] fp32, symmetric; overwritten by the
    /// eigenvectors, one per row) into <paramref name="eigenvalues"/> ([n] fp32, ascending).
    /// </summary>
    public void Solve(CudaStream stream, DeviceBuffer matrix, DeviceBuffer eigenvalues, DeviceBuffer workspace)
    {
        ObjectDisposedException.ThrowIf(handle == 0, this);
        matrix.RequireBytes((long)N * N * sizeof(float), nameof(matrix));
        eigenvalues.RequireBytes((long)N * sizeof(float), nameof(eigenvalues));
        workspace.RequireBytes(WorkspaceBytes, nameof(workspace));
        device.MakeCurrent();
        CusolverException.ThrowIfFailed(Cusolver.cusolverDnSetStream(handle, stream.Handle));
        CusolverException.ThrowIfFailed(
            Cusolver.cusolverDnSsyevd(
                handle, CusolverEigMode.Vector, CublasFillMode.Lower, N, matrix.Pointer, N, eigenvalues.Pointer,
                workspace.Pointer + InfoBytes, lworkElements, workspace.Pointer),
            $"n={N} on {stream}");
    }

    /// <summary>Waits for the stream and throws if the last <see cref="Solve"/> using <paramref name="workspace"/>
    /// reported failure (info ≠ 0: &gt; 0 means it did not converge). For tests and debugging: it synchronises.</summary>
    public void ThrowIfFailed(CudaStream stream, DeviceBuffer workspace)
    {
        Span<int> info = stackalloc int[1];
        stream.CopyToHost(info, workspace.Slice(0, sizeof(int)));
        stream.Synchronize();
        if (info[0] != 0)
        {
            throw new CusolverException(CusolverStatus.ExecutionFailed, "cusolverDnSsyevd", $"n={N}: info = {info[0]} ({(info[0] > 0 ? "did not converge" : "invalid argument")})");
        }
    }

    // The size query takes the matrix and eigenvalue pointers. cuSOLVER documents no use of them there, but it
    // does not promise that null is accepted either, so the query gets real (scratch) buffers of the right size.
    private static int QueryWorkElements(nint handle, int n)
    {
        long bytes = ((long)n * n + n) * sizeof(float);
        CudaException.ThrowIfFailed(CudaDriver.cuMemAlloc(out ulong scratch, (nuint)bytes), $"eigensolver size query, {bytes} bytes");
        try
        {
            CusolverException.ThrowIfFailed(
                Cusolver.cusolverDnSsyevd_bufferSize(
                    handle, CusolverEigMode.Vector, CublasFillMode.Lower, n, scratch, n, scratch + (ulong)n * (ulong)n * sizeof(float), out int lwork),
                $"n={n}");
            return lwork;
        }
        finally
        {
            CudaDriver.cuMemFree(scratch);
        }
    }

    public void Dispose()
    {
        if (handle == 0)
        {
            return;
        }

        device.MakeCurrent();
        Cusolver.cusolverDnDestroy(handle);
        handle = 0;
    }
}
