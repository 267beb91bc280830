using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;

namespace ShadowKV.Runtime.Interop;

/// <summary><c>cusolverStatus_t</c> (cusolver_common.h, CUDA 12.6).</summary>
public enum CusolverStatus
{
    Success = 0,                    // CUSOLVER_STATUS_SUCCESS
    NotInitialized = 1,             // CUSOLVER_STATUS_NOT_INITIALIZED
    AllocFailed = 2,                // CUSOLVER_STATUS_ALLOC_FAILED
    InvalidValue = 3,               // CUSOLVER_STATUS_INVALID_VALUE
    ArchMismatch = 4,               // CUSOLVER_STATUS_ARCH_MISMATCH
    MappingError = 5,               // CUSOLVER_STATUS_MAPPING_ERROR
    ExecutionFailed = 6,            // CUSOLVER_STATUS_EXECUTION_FAILED
    InternalError = 7,              // CUSOLVER_STATUS_INTERNAL_ERROR
    MatrixTypeNotSupported = 8,     // CUSOLVER_STATUS_MATRIX_TYPE_NOT_SUPPORTED
    NotSupported = 9,               // CUSOLVER_STATUS_NOT_SUPPORTED
    InvalidWorkspace = 31,          // CUSOLVER_STATUS_INVALID_WORKSPACE
}

/// <summary><c>cusolverEigMode_t</c> (cusolver_common.h).</summary>
internal enum CusolverEigMode
{
    NoVector = 0,                   // CUSOLVER_EIG_MODE_NOVECTOR
    Vector = 1,                     // CUSOLVER_EIG_MODE_VECTOR
}

/// <summary><c>cublasFillMode_t</c> (cublas_api.h): which triangle of the symmetric input is read.</summary>
internal enum CublasFillMode
{
    Lower = 0,                      // CUBLAS_FILL_MODE_LOWER
    Upper = 1,                      // CUBLAS_FILL_MODE_UPPER
}

/// <summary>Bindings to the dense cuSOLVER API (libcusolver). <c>cudaStream_t</c> is the driver's <c>CUstream</c>.</summary>
internal static unsafe partial class Cusolver
{
    private const string Lib = NativeLibraries.Cusolver;

    [LibraryImport(Lib)]
    internal static partial CusolverStatus cusolverDnCreate(out nint handle);

    [LibraryImport(Lib)]
    internal static partial CusolverStatus cusolverDnDestroy(nint handle);

    [LibraryImport(Lib)]
    internal static partial CusolverStatus cusolverDnSetStream(nint handle, nint stream);

    // lwork is returned in elements (floats), not bytes.
    [LibraryImport(Lib)]
    internal static partial CusolverStatus cusolverDnSsyevd_bufferSize(
        nint handle, CusolverEigMode jobz, CublasFillMode uplo, int n, ulong a, int lda, ulong w, out int lwork);

    // A (n×n, column-major, lda) is overwritten by the orthonormal eigenvectors (one per column), W receives the
    // eigenvalues in ascending order, info (device int) is 0 on success, >0 when the algorithm did not converge.
    [LibraryImport(Lib)]
    internal static partial CusolverStatus cusolverDnSsyevd(
        nint handle, CusolverEigMode jobz, CublasFillMode uplo, int n, ulong a, int lda, ulong w,
        ulong work, int lwork, ulong info);
}
