using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;

namespace ShadowKV.Runtime.Interop;

internal static unsafe partial class CudaDriver
{
    // image: a cubin (or NUL-terminated PTX) that must stay readable for the duration of the call only.
    [LibraryImport(Lib)]
    internal static partial CuResult cuModuleLoadData(out nint module, void* image);

    [LibraryImport(Lib)]
    internal static partial CuResult cuModuleUnload(nint module);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial CuResult cuModuleGetFunction(out nint function, nint module, string name);

    [LibraryImport(Lib)]
    internal static partial CuResult cuFuncSetAttribute(nint function, CuFunctionAttribute attribute, int value);

    // kernelParams: one pointer per kernel parameter, each pointing at that parameter's value; extra: unused (null).
    [LibraryImport(Lib)]
    internal static partial CuResult cuLaunchKernel(
        nint function,
        uint gridDimX, uint gridDimY, uint gridDimZ,
        uint blockDimX, uint blockDimY, uint blockDimZ,
        uint sharedMemBytes, nint stream, void** kernelParams, void** extra);
}
