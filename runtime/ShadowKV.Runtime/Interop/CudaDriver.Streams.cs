using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;

namespace ShadowKV.Runtime.Interop;

internal static unsafe partial class CudaDriver
{
    // ---- streams ---------------------------------------------------------------------------------------------------

    [LibraryImport(Lib)]
    internal static partial CuResult cuStreamCreate(out nint stream, uint flags);

    // cuda.h: #define cuStreamDestroy cuStreamDestroy_v2
    [LibraryImport(Lib, EntryPoint = "cuStreamDestroy_v2")]
    internal static partial CuResult cuStreamDestroy(nint stream);

    [LibraryImport(Lib)]
    internal static partial CuResult cuStreamSynchronize(nint stream);

    [LibraryImport(Lib)]
    internal static partial CuResult cuStreamWaitEvent(nint stream, nint cudaEvent, uint flags);

    // ---- events ----------------------------------------------------------------------------------------------------

    [LibraryImport(Lib)]
    internal static partial CuResult cuEventCreate(out nint cudaEvent, uint flags);

    [LibraryImport(Lib)]
    internal static partial CuResult cuEventRecord(nint cudaEvent, nint stream);

    // cuda.h: #define cuEventDestroy cuEventDestroy_v2
    [LibraryImport(Lib, EntryPoint = "cuEventDestroy_v2")]
    internal static partial CuResult cuEventDestroy(nint cudaEvent);

    [LibraryImport(Lib)]
    internal static partial CuResult cuEventSynchronize(nint cudaEvent);

    // CUDA 12.8 added cuEventElapsedTime_v2 and CUDA 13's cuda.h #defines cuEventElapsedTime to it (relaxed error
    // checking; same signature). The GPU host runs driver 580 (CUDA 13), which exports it; older drivers that lack
    // the symbol fail here with EntryPointNotFoundException, and CudaEvent falls back to the original symbol.
    [LibraryImport(Lib, EntryPoint = "cuEventElapsedTime_v2")]
    internal static partial CuResult cuEventElapsedTime(out float milliseconds, nint start, nint end);

    [LibraryImport(Lib, EntryPoint = "cuEventElapsedTime")]
    internal static partial CuResult cuEventElapsedTimeV1(out float milliseconds, nint start, nint end);
}
