using System;
using ShadowKV.Runtime.Interop;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;

namespace ShadowKV.Runtime.Cuda;

/// <summary>A cuBLASLt handle (one per device is enough; it holds no stream).</summary>
public sealed class CublasLtHandle : IDisposable
{
    private nint handle;

    private CublasLtHandle(CudaDevice device, nint handle)
    {
        Device = device;
        this.handle = handle;
    }

    public CudaDevice Device { get; }

    internal nint Handle => handle != 0 ? handle : throw new ObjectDisposedException(nameof(CublasLtHandle));

    /// <summary>cuBLASLt's version, e.g. 130001 for 13.0.1 (major·10000 + minor·100 + patch).</summary>
    public static long Version => (long)CublasLt.cublasLtGetVersion();

    public static CublasLtHandle Create(CudaDevice device)
    {
        // cuBLASLt works in the calling thread's current context: the device's primary context.
        device.MakeCurrent();
        CublasException.ThrowIfFailed(CublasLt.cublasLtCreate(out nint handle));
        return new CublasLtHandle(device, handle);
    }

    public void Dispose()
    {
        if (handle == 0)
        {
            return;
        }

        Device.MakeCurrent();
        CublasLt.cublasLtDestroy(handle);
        handle = 0;
    }
}
