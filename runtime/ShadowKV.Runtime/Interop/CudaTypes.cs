using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;

namespace ShadowKV.Runtime.Interop;

// Values below are copied from the CUDA 12.6 toolkit's cuda.h (enum cudaError_enum, CUdevice_attribute_enum,
// CUfunction_attribute_enum, CUstreamCaptureMode_enum, CU_MEMHOSTALLOC_*, CUstream_flags_enum, CUevent_flags_enum).
// The driver API keeps these numbers stable across versions (CUDA 13 only appends), so they hold for driver 580.

/// <summary><c>CUresult</c>: the driver's status code. Only values the runtime branches on are named; every other
/// code is still reported by name through <c>cuGetErrorName</c>.</summary>
public enum CuResult
{
    Success = 0,                     // CUDA_SUCCESS
    InvalidValue = 1,                // CUDA_ERROR_INVALID_VALUE
    OutOfMemory = 2,                 // CUDA_ERROR_OUT_OF_MEMORY
    NotInitialized = 3,              // CUDA_ERROR_NOT_INITIALIZED
    Deinitialized = 4,               // CUDA_ERROR_DEINITIALIZED
    NoDevice = 100,                  // CUDA_ERROR_NO_DEVICE
    InvalidDevice = 101,             // CUDA_ERROR_INVALID_DEVICE
    InvalidImage = 200,              // CUDA_ERROR_INVALID_IMAGE
    InvalidContext = 201,            // CUDA_ERROR_INVALID_CONTEXT
    NoBinaryForGpu = 209,            // CUDA_ERROR_NO_BINARY_FOR_GPU: cubin built for another arch
    InvalidHandle = 400,             // CUDA_ERROR_INVALID_HANDLE
    NotFound = 500,                  // CUDA_ERROR_NOT_FOUND: e.g. a kernel name missing from a module
    NotReady = 600,                  // CUDA_ERROR_NOT_READY: a query on unfinished work, not a failure
    IllegalAddress = 700,            // CUDA_ERROR_ILLEGAL_ADDRESS: sticky, the context is unusable afterwards
    LaunchOutOfResources = 701,      // CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES
    LaunchFailed = 719,              // CUDA_ERROR_LAUNCH_FAILED
    StreamCaptureUnsupported = 900,  // CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED
    StreamCaptureInvalidated = 901,  // CUDA_ERROR_STREAM_CAPTURE_INVALIDATED
}

/// <summary><c>CUdevice_attribute</c> values the runtime reads.</summary>
public enum CuDeviceAttribute
{
    MaxThreadsPerBlock = 1,                // CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK
    MultiprocessorCount = 16,              // CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT
    CanMapHostMemory = 19,                 // CU_DEVICE_ATTRIBUTE_CAN_MAP_HOST_MEMORY
    L2CacheSize = 38,                      // CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE
    UnifiedAddressing = 41,                // CU_DEVICE_ATTRIBUTE_UNIFIED_ADDRESSING
    ComputeCapabilityMajor = 75,           // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR
    ComputeCapabilityMinor = 76,           // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR
    MaxSharedMemoryPerBlockOptin = 97,     // CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN
}

/// <summary><c>CUfunction_attribute</c> values the runtime sets.</summary>
public enum CuFunctionAttribute
{
    MaxDynamicSharedSizeBytes = 8,         // CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES
}

/// <summary><c>CUstreamCaptureMode</c>.</summary>
public enum CuStreamCaptureMode
{
    Global = 0,                            // CU_STREAM_CAPTURE_MODE_GLOBAL
    ThreadLocal = 1,                       // CU_STREAM_CAPTURE_MODE_THREAD_LOCAL
    Relaxed = 2,                           // CU_STREAM_CAPTURE_MODE_RELAXED
}

/// <summary>Flag constants from cuda.h.</summary>
public static class CuFlags
{
    public const uint MemHostAllocPortable = 0x01;   // CU_MEMHOSTALLOC_PORTABLE: pinned for every context
    public const uint MemHostAllocDeviceMap = 0x02;  // CU_MEMHOSTALLOC_DEVICEMAP: kernels may read it directly
    public const uint StreamNonBlocking = 0x1;       // CU_STREAM_NON_BLOCKING: no implicit sync with stream 0
    public const uint EventDefault = 0x0;            // CU_EVENT_DEFAULT
    public const uint EventDisableTiming = 0x2;      // CU_EVENT_DISABLE_TIMING: cheaper, for cross-stream edges
    public const uint StreamWaitEventDefault = 0x0;  // CU_EVENT_WAIT_DEFAULT
    public const ulong GraphInstantiateNone = 0;     // no CUDA_GRAPH_INSTANTIATE_FLAG_*: plain replayable graph
}
