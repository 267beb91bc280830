using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;

namespace ShadowKV.Runtime.Interop;

internal static unsafe partial class CudaDriver
{
    // cuda.h: #define cuMemGetInfo cuMemGetInfo_v2
    [LibraryImport(Lib, EntryPoint = "cuMemGetInfo_v2")]
    internal static partial CuResult cuMemGetInfo(out nuint free, out nuint total);

    // cuda.h: #define cuMemAlloc cuMemAlloc_v2
    [LibraryImport(Lib, EntryPoint = "cuMemAlloc_v2")]
    internal static partial CuResult cuMemAlloc(out ulong devicePointer, nuint bytes);

    // cuda.h: #define cuMemFree cuMemFree_v2
    [LibraryImport(Lib, EntryPoint = "cuMemFree_v2")]
    internal static partial CuResult cuMemFree(ulong devicePointer);

    // No _v2 in cuda.h. Flags: CuFlags.MemHostAlloc*.
    [LibraryImport(Lib)]
    internal static partial CuResult cuMemHostAlloc(out nint hostPointer, nuint bytes, uint flags);

    [LibraryImport(Lib)]
    internal static partial CuResult cuMemFreeHost(nint hostPointer);

    // cuda.h: #define cuMemHostGetDevicePointer cuMemHostGetDevicePointer_v2; flags must be 0.
    [LibraryImport(Lib, EntryPoint = "cuMemHostGetDevicePointer_v2")]
    internal static partial CuResult cuMemHostGetDevicePointer(out ulong devicePointer, nint hostPointer, uint flags);

    // ---- asynchronous copies and fills on a stream ------------------------------------------------------------------
    // cuda.h: #define cuMemcpyHtoDAsync __CUDA_API_PTSZ(cuMemcpyHtoDAsync_v2) (likewise DtoH, DtoD). We never use the
    // per-thread default stream, so the plain (non-_ptsz) symbols are the right ones.

    [LibraryImport(Lib, EntryPoint = "cuMemcpyHtoDAsync_v2")]
    internal static partial CuResult cuMemcpyHtoDAsync(ulong destination, void* source, nuint bytes, nint stream);

    [LibraryImport(Lib, EntryPoint = "cuMemcpyDtoHAsync_v2")]
    internal static partial CuResult cuMemcpyDtoHAsync(void* destination, ulong source, nuint bytes, nint stream);

    [LibraryImport(Lib, EntryPoint = "cuMemcpyDtoDAsync_v2")]
    internal static partial CuResult cuMemcpyDtoDAsync(ulong destination, ulong source, nuint bytes, nint stream);

    // cuda.h: #define cuMemsetD8Async __CUDA_API_PTSZ(cuMemsetD8Async): no _v2 for the async form.
    [LibraryImport(Lib)]
    internal static partial CuResult cuMemsetD8Async(ulong destination, byte value, nuint count, nint stream);
}
