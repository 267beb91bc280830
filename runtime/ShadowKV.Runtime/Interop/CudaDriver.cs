using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;

namespace ShadowKV.Runtime.Interop;

/// <summary>
/// Thin bindings to the CUDA driver API (libcuda.so.1). Signatures follow cuda.h; where the header
/// <c>#define</c>s a name to a versioned symbol (<c>cuMemAlloc</c> → <c>cuMemAlloc_v2</c>), the EntryPoint names the
/// versioned symbol and the C# method keeps the unversioned name. Handles are <see cref="nint"/>,
/// <c>CUdeviceptr</c> is <see cref="ulong"/> (cuda.h: <c>typedef unsigned long long CUdeviceptr_v2</c> on 64-bit),
/// <c>size_t</c> is <see cref="nuint"/>.
/// </summary>
/// <remarks>Callers check every result with <see cref="CudaException.ThrowIfFailed"/>.</remarks>
internal static unsafe partial class CudaDriver
{
    private const string Lib = NativeLibraries.CudaDriver;

    // ---- initialisation, devices ---------------------------------------------------------------------------------

    [LibraryImport(Lib)]
    internal static partial CuResult cuInit(uint flags);

    [LibraryImport(Lib)]
    internal static partial CuResult cuDriverGetVersion(out int driverVersion);

    [LibraryImport(Lib)]
    internal static partial CuResult cuDeviceGetCount(out int count);

    [LibraryImport(Lib)]
    internal static partial CuResult cuDeviceGet(out int device, int ordinal);

    [LibraryImport(Lib)]
    internal static partial CuResult cuDeviceGetName(byte* name, int length, int device);

    [LibraryImport(Lib)]
    internal static partial CuResult cuDeviceGetAttribute(out int value, CuDeviceAttribute attribute, int device);

    // cuda.h: #define cuDeviceTotalMem cuDeviceTotalMem_v2
    [LibraryImport(Lib, EntryPoint = "cuDeviceTotalMem_v2")]
    internal static partial CuResult cuDeviceTotalMem(out nuint bytes, int device);

    // ---- contexts: the device's primary context, shared with any other library in the process (cuBLAS etc.) ----

    [LibraryImport(Lib)]
    internal static partial CuResult cuDevicePrimaryCtxRetain(out nint context, int device);

    // cuda.h: #define cuDevicePrimaryCtxRelease cuDevicePrimaryCtxRelease_v2
    [LibraryImport(Lib, EntryPoint = "cuDevicePrimaryCtxRelease_v2")]
    internal static partial CuResult cuDevicePrimaryCtxRelease(int device);

    [LibraryImport(Lib)]
    internal static partial CuResult cuCtxSetCurrent(nint context);

    [LibraryImport(Lib)]
    internal static partial CuResult cuCtxSynchronize();

    // ---- errors ----------------------------------------------------------------------------------------------------

    [LibraryImport(Lib)]
    internal static partial CuResult cuGetErrorName(CuResult error, out byte* name);

    [LibraryImport(Lib)]
    internal static partial CuResult cuGetErrorString(CuResult error, out byte* description);

    /// <summary>"CUDA_ERROR_OUT_OF_MEMORY: out of memory", or the number when the driver does not know it.</summary>
    internal static string Describe(CuResult result)
    {
        try
        {
            string name = cuGetErrorName(result, out byte* namePtr) == CuResult.Success && namePtr != null
                ? Marshal.PtrToStringUTF8((nint)namePtr)!
                : $"CUresult {(int)result}";
            string? text = cuGetErrorString(result, out byte* textPtr) == CuResult.Success && textPtr != null
                ? Marshal.PtrToStringUTF8((nint)textPtr)
                : null;
            return text is null ? name : $"{name}: {text}";
        }
        catch (DllNotFoundException)
        {
            return $"CUresult {(int)result} ({result})";
        }
    }
}
