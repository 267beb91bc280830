using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;

namespace ShadowKV.Runtime.Interop;

// Enum values and struct layouts below are copied from the CUDA 12.6 toolkit headers (cublas_api.h, cublasLt.h,
// library_types.h); cuBLAS keeps them stable across majors (13 only appends).

/// <summary><c>cublasStatus_t</c> (cublas_api.h).</summary>
public enum CublasStatus
{
    Success = 0,            // CUBLAS_STATUS_SUCCESS
    NotInitialized = 1,     // CUBLAS_STATUS_NOT_INITIALIZED
    AllocFailed = 3,        // CUBLAS_STATUS_ALLOC_FAILED
    InvalidValue = 7,       // CUBLAS_STATUS_INVALID_VALUE
    ArchMismatch = 8,       // CUBLAS_STATUS_ARCH_MISMATCH
    MappingError = 11,      // CUBLAS_STATUS_MAPPING_ERROR
    ExecutionFailed = 13,   // CUBLAS_STATUS_EXECUTION_FAILED
    InternalError = 14,     // CUBLAS_STATUS_INTERNAL_ERROR
    NotSupported = 15,      // CUBLAS_STATUS_NOT_SUPPORTED
    LicenseError = 16,      // CUBLAS_STATUS_LICENSE_ERROR
}

/// <summary><c>cudaDataType</c> values we use (library_types.h).</summary>
internal enum CudaDataType
{
    R32F = 0,               // CUDA_R_32F
    R16F = 2,               // CUDA_R_16F
    R16BF = 14,             // CUDA_R_16BF
}

/// <summary><c>cublasComputeType_t</c> (cublas_api.h).</summary>
internal enum CublasComputeType
{
    Compute32F = 68,        // CUBLAS_COMPUTE_32F: fp32 accumulate (bf16 inputs still use tensor cores)
}

/// <summary><c>cublasOperation_t</c> (cublas_api.h).</summary>
internal enum CublasOperation
{
    N = 0,                  // CUBLAS_OP_N
    T = 1,                  // CUBLAS_OP_T
}

/// <summary><c>cublasLtMatmulDescAttributes_t</c> (cublasLt.h); the comment gives each attribute's C value type.</summary>
internal enum CublasLtMatmulDescAttribute
{
    TransA = 3,             // CUBLASLT_MATMUL_DESC_TRANSA: int32_t (cublasOperation_t)
    TransB = 4,             // CUBLASLT_MATMUL_DESC_TRANSB: int32_t
    Epilogue = 7,           // CUBLASLT_MATMUL_DESC_EPILOGUE: uint32_t (cublasLtEpilogue_t)
    BiasPointer = 8,        // CUBLASLT_MATMUL_DESC_BIAS_POINTER: const void*; length = rows of D
    BiasDataType = 26,      // CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE: int32_t (cudaDataType); default -1 = type of D
}

/// <summary><c>cublasLtEpilogue_t</c> (cublasLt.h).</summary>
internal enum CublasLtEpilogue : uint
{
    Default = 1,            // CUBLASLT_EPILOGUE_DEFAULT
    Bias = 4,               // CUBLASLT_EPILOGUE_BIAS: D = alpha*op(A)op(B) + beta*C + bias (broadcast over columns)
}

/// <summary><c>cublasLtMatmulPreferenceAttributes_t</c> (cublasLt.h).</summary>
internal enum CublasLtPreferenceAttribute
{
    MaxWorkspaceBytes = 1,  // CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES: uint64_t, default 0
    MinAlignmentA = 5,      // CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES: uint32_t, default 256
    MinAlignmentB = 6,      // CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES
    MinAlignmentC = 7,      // CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES
    MinAlignmentD = 8,      // CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES
}

/// <summary><c>cublasLtMatmulAlgo_t</c>: <c>struct { uint64_t data[8]; }</c>, 64 bytes, opaque.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct CublasLtMatmulAlgo
{
    public fixed ulong Data[8];
}

/// <summary>
/// <c>cublasLtMatmulHeuristicResult_t</c>: <c>{ cublasLtMatmulAlgo_t algo; size_t workspaceSize;
/// cublasStatus_t state; float wavesCount; int reserved[4]; }</c> = 64 + 8 + 4 + 4 + 16 = 96 bytes.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct CublasLtHeuristicResult
{
    public CublasLtMatmulAlgo Algo;
    public nuint WorkspaceSize;
    public CublasStatus State;
    public float WavesCount;
    public fixed int Reserved[4];
}

/// <summary>Bindings to cuBLASLt (libcublasLt.so.13/.12/.11). Descriptors and the handle are opaque pointers.</summary>
internal static unsafe partial class CublasLt
{
    private const string Lib = NativeLibraries.CublasLt;

    [LibraryImport(Lib)]
    internal static partial CublasStatus cublasLtCreate(out nint handle);

    [LibraryImport(Lib)]
    internal static partial CublasStatus cublasLtDestroy(nint handle);

    [LibraryImport(Lib)]
    internal static partial nuint cublasLtGetVersion();

    [LibraryImport(Lib)]
    internal static partial byte* cublasLtGetStatusName(CublasStatus status);

    [LibraryImport(Lib)]
    internal static partial CublasStatus cublasLtMatmulDescCreate(out nint desc, CublasComputeType computeType, CudaDataType scaleType);

    [LibraryImport(Lib)]
    internal static partial CublasStatus cublasLtMatmulDescDestroy(nint desc);

    [LibraryImport(Lib)]
    internal static partial CublasStatus cublasLtMatmulDescSetAttribute(nint desc, CublasLtMatmulDescAttribute attribute, void* value, nuint sizeInBytes);

    // Describes the matrix as stored, before op(): rows × cols, column-major, leading dimension ld (elements).
    [LibraryImport(Lib)]
    internal static partial CublasStatus cublasLtMatrixLayoutCreate(out nint layout, CudaDataType type, ulong rows, ulong cols, long ld);

    [LibraryImport(Lib)]
    internal static partial CublasStatus cublasLtMatrixLayoutDestroy(nint layout);

    [LibraryImport(Lib)]
    internal static partial CublasStatus cublasLtMatmulPreferenceCreate(out nint preference);

    [LibraryImport(Lib)]
    internal static partial CublasStatus cublasLtMatmulPreferenceDestroy(nint preference);

    [LibraryImport(Lib)]
    internal static partial CublasStatus cublasLtMatmulPreferenceSetAttribute(nint preference, CublasLtPreferenceAttribute attribute, void* value, nuint sizeInBytes);

    [LibraryImport(Lib)]
    internal static partial CublasStatus cublasLtMatmulAlgoGetHeuristic(
        nint handle, nint operationDesc, nint aDesc, nint bDesc, nint cDesc, nint dDesc, nint preference,
        int requestedAlgoCount, CublasLtHeuristicResult* results, out int returnedAlgoCount);

    // alpha/beta point to host floats (default pointer mode, scale type CUDA_R_32F).
    [LibraryImport(Lib)]
    internal static partial CublasStatus cublasLtMatmul(
        nint handle, nint computeDesc,
        void* alpha, ulong a, nint aDesc, ulong b, nint bDesc,
        void* beta, ulong c, nint cDesc, ulong d, nint dDesc,
        CublasLtMatmulAlgo* algo, ulong workspace, nuint workspaceSizeInBytes, nint stream);

    internal static string Describe(CublasStatus status)
    {
        try
        {
            byte* name = cublasLtGetStatusName(status);
            return name == null ? $"cublasStatus {(int)status}" : $"{Marshal.PtrToStringUTF8((nint)name)} ({(int)status})";
        }
        catch (DllNotFoundException)
        {
            return $"cublasStatus {(int)status} ({status})";
        }
    }
}
