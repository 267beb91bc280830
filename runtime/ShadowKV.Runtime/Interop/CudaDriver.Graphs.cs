using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;

namespace ShadowKV.Runtime.Interop;

internal static partial class CudaDriver
{
    // cuda.h: #define cuStreamBeginCapture __CUDA_API_PTSZ(cuStreamBeginCapture_v2)
    [LibraryImport(Lib, EntryPoint = "cuStreamBeginCapture_v2")]
    internal static partial CuResult cuStreamBeginCapture(nint stream, CuStreamCaptureMode mode);

    [LibraryImport(Lib)]
    internal static partial CuResult cuStreamEndCapture(nint stream, out nint graph);

    // cuda.h (12.0+): #define cuGraphInstantiate cuGraphInstantiateWithFlags; flags is unsigned long long.
    [LibraryImport(Lib)]
    internal static partial CuResult cuGraphInstantiateWithFlags(out nint graphExec, nint graph, ulong flags);

    [LibraryImport(Lib)]
    internal static partial CuResult cuGraphLaunch(nint graphExec, nint stream);

    [LibraryImport(Lib)]
    internal static partial CuResult cuGraphExecDestroy(nint graphExec);

    [LibraryImport(Lib)]
    internal static partial CuResult cuGraphDestroy(nint graph);
}
