using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;

namespace ShadowKV.Runtime.Interop;

/// <summary><c>nvrtcResult</c>, values from nvrtc.h (CUDA 12.6; stable since 11.x, later versions only append).</summary>
public enum NvrtcResult
{
    Success = 0,                                // NVRTC_SUCCESS
    OutOfMemory = 1,                            // NVRTC_ERROR_OUT_OF_MEMORY
    ProgramCreationFailure = 2,                 // NVRTC_ERROR_PROGRAM_CREATION_FAILURE
    InvalidInput = 3,                           // NVRTC_ERROR_INVALID_INPUT
    InvalidProgram = 4,                         // NVRTC_ERROR_INVALID_PROGRAM
    InvalidOption = 5,                          // NVRTC_ERROR_INVALID_OPTION
    Compilation = 6,                            // NVRTC_ERROR_COMPILATION
    BuiltinOperationFailure = 7,                // NVRTC_ERROR_BUILTIN_OPERATION_FAILURE
    NoNameExpressionsAfterCompilation = 8,      // NVRTC_ERROR_NO_NAME_EXPRESSIONS_AFTER_COMPILATION
    NoLoweredNamesBeforeCompilation = 9,        // NVRTC_ERROR_NO_LOWERED_NAMES_BEFORE_COMPILATION
    NameExpressionNotValid = 10,                // NVRTC_ERROR_NAME_EXPRESSION_NOT_VALID
    InternalError = 11,                         // NVRTC_ERROR_INTERNAL_ERROR
}

/// <summary>
/// Bindings to NVRTC (libnvrtc.so.13/.12/.11.2, chosen by <see cref="NativeLibraries"/>). Signatures from nvrtc.h.
/// <c>nvrtcProgram</c> is an opaque pointer (<see cref="nint"/>).
/// </summary>
internal static unsafe partial class Nvrtc
{
    private const string Lib = NativeLibraries.Nvrtc;

    [LibraryImport(Lib)]
    internal static partial byte* nvrtcGetErrorString(NvrtcResult result);

    [LibraryImport(Lib)]
    internal static partial NvrtcResult nvrtcVersion(out int major, out int minor);

    // Present since CUDA 11.2; the Debian 11.8 build has both.
    [LibraryImport(Lib)]
    internal static partial NvrtcResult nvrtcGetNumSupportedArchs(out int count);

    [LibraryImport(Lib)]
    internal static partial NvrtcResult nvrtcGetSupportedArchs(int* archs);

    // headers/includeNames: our kernels include nothing (DESIGN.md rule 5), so numHeaders is always 0.
    [LibraryImport(Lib)]
    internal static partial NvrtcResult nvrtcCreateProgram(
        out nint program, byte* source, byte* name, int numHeaders, byte** headers, byte** includeNames);

    [LibraryImport(Lib)]
    internal static partial NvrtcResult nvrtcDestroyProgram(ref nint program);

    [LibraryImport(Lib)]
    internal static partial NvrtcResult nvrtcAddNameExpression(nint program, byte* nameExpression);

    [LibraryImport(Lib)]
    internal static partial NvrtcResult nvrtcCompileProgram(nint program, int numOptions, byte** options);

    // The returned string lives until nvrtcDestroyProgram: copy it out before destroying the program.
    [LibraryImport(Lib)]
    internal static partial NvrtcResult nvrtcGetLoweredName(nint program, byte* nameExpression, out byte* loweredName);

    // CUBIN exists only when compiling for a real architecture (sm_XY), not a virtual one (compute_XY).
    [LibraryImport(Lib)]
    internal static partial NvrtcResult nvrtcGetCUBINSize(nint program, out nuint size);

    [LibraryImport(Lib)]
    internal static partial NvrtcResult nvrtcGetCUBIN(nint program, byte* cubin);

    // PTX size includes the trailing NUL.
    [LibraryImport(Lib)]
    internal static partial NvrtcResult nvrtcGetPTXSize(nint program, out nuint size);

    [LibraryImport(Lib)]
    internal static partial NvrtcResult nvrtcGetPTX(nint program, byte* ptx);

    // Log size includes the trailing NUL.
    [LibraryImport(Lib)]
    internal static partial NvrtcResult nvrtcGetProgramLogSize(nint program, out nuint size);

    [LibraryImport(Lib)]
    internal static partial NvrtcResult nvrtcGetProgramLog(nint program, byte* log);

    internal static string Describe(NvrtcResult result)
    {
        try
        {
            byte* text = nvrtcGetErrorString(result);
            return text == null ? $"nvrtcResult {(int)result}" : $"{Marshal.PtrToStringUTF8((nint)text)} ({(int)result})";
        }
        catch (DllNotFoundException)
        {
            return $"nvrtcResult {(int)result} ({result})";
        }
    }
}
