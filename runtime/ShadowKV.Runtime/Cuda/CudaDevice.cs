using System;
using ShadowKV.Runtime.Interop;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;

namespace ShadowKV.Runtime.Cuda;

/// <summary>
/// One GPU and its primary context (the context the CUDA runtime and cuBLAS also use, so libraries share it).
/// Every wrapper in this namespace calls <see cref="MakeCurrent"/> first: a CUDA context is current per thread, and
/// .NET code may continue on another thread.
/// </summary>
public sealed unsafe class CudaDevice : IDisposable
{
    [ThreadStatic]
    private static nint currentOnThisThread;

    private nint context;

    private CudaDevice(int ordinal, int handle, nint context)
    {
        Ordinal = ordinal;
        Handle = handle;
        this.context = context;
        Name = ReadName(handle);
        ComputeCapability = (Attribute(CuDeviceAttribute.ComputeCapabilityMajor), Attribute(CuDeviceAttribute.ComputeCapabilityMinor));
        MultiprocessorCount = Attribute(CuDeviceAttribute.MultiprocessorCount);
        MaxSharedMemoryPerBlockOptin = Attribute(CuDeviceAttribute.MaxSharedMemoryPerBlockOptin);
        L2CacheBytes = Attribute(CuDeviceAttribute.L2CacheSize);
        CanMapHostMemory = Attribute(CuDeviceAttribute.CanMapHostMemory) != 0;
        CudaException.ThrowIfFailed(CudaDriver.cuDeviceTotalMem(out nuint total, handle));
        TotalMemoryBytes = (long)total;
        CudaException.ThrowIfFailed(CudaDriver.cuDriverGetVersion(out int driverVersion));
        DriverVersion = driverVersion;
    }

    public int Ordinal { get; }

    internal int Handle { get; }

    public string Name { get; }

    public (int Major, int Minor) ComputeCapability { get; }

    public int MultiprocessorCount { get; }

    /// <summary>Largest dynamic shared memory a kernel may opt into (227 KiB on H100).</summary>
    public int MaxSharedMemoryPerBlockOptin { get; }

    public int L2CacheBytes { get; }

    public bool CanMapHostMemory { get; }

    public long TotalMemoryBytes { get; }

    /// <summary>The driver's CUDA version as 1000·major + 10·minor (13000 for CUDA 13.0).</summary>
    public int DriverVersion { get; }

    /// <summary>The NVRTC <c>--gpu-architecture</c> for this device with the NVRTC that is loaded.</summary>
    public string Arch => ArchFor(ComputeCapability.Major, ComputeCapability.Minor, NvrtcCompiler.Version.Major);

    /// <summary>
    /// Initialises the driver and retains device <paramref name="ordinal"/>'s primary context, current on this
    /// thread. Throws <see cref="NativeLibraryNotFoundException"/> without a driver, <see cref="CudaException"/>
    /// (CUDA_ERROR_NO_DEVICE) without a GPU.
    /// </summary>
    public static CudaDevice Open(int ordinal = 0)
    {
        CudaException.ThrowIfFailed(CudaDriver.cuInit(0));
        CudaException.ThrowIfFailed(CudaDriver.cuDeviceGet(out int handle, ordinal), $"device {ordinal}");
        CudaException.ThrowIfFailed(CudaDriver.cuDevicePrimaryCtxRetain(out nint context, handle));
        CudaException.ThrowIfFailed(CudaDriver.cuCtxSetCurrent(context));
        currentOnThisThread = context;
        return new CudaDevice(ordinal, handle, context);
    }

    /// <summary>
    /// sm_90a on compute capability 9.0 when NVRTC ≥ 12 (the "a" target enables Hopper-only instructions such as
    /// wgmma and setmaxnreg; NVRTC 11.8 does not know it), otherwise sm_XY.
    /// </summary>
    public static string ArchFor(int major, int minor, int nvrtcMajor) =>
        major == 9 && minor == 0 && nvrtcMajor >= 12 ? "sm_90a" : $"sm_{major}{minor}";

    /// <summary>Makes this device's context current on the calling thread (a cheap check when it already is).</summary>
    public void MakeCurrent()
    {
        ObjectDisposedException.ThrowIf(context == 0, this);
        if (currentOnThisThread != context)
        {
            CudaException.ThrowIfFailed(CudaDriver.cuCtxSetCurrent(context));
            currentOnThisThread = context;
        }
    }

    /// <summary>Free and total device memory now (cuMemGetInfo).</summary>
    public (long FreeBytes, long TotalBytes) MemoryInfo()
    {
        MakeCurrent();
        CudaException.ThrowIfFailed(CudaDriver.cuMemGetInfo(out nuint free, out nuint total));
        return ((long)free, (long)total);
    }

    /// <summary>Waits for all work on the device (tests and shutdown only; the engine synchronises streams).</summary>
    public void Synchronize()
    {
        MakeCurrent();
        CudaException.ThrowIfFailed(CudaDriver.cuCtxSynchronize());
    }

    public int Attribute(CuDeviceAttribute attribute)
    {
        CudaException.ThrowIfFailed(CudaDriver.cuDeviceGetAttribute(out int value, attribute, Handle), attribute.ToString());
        return value;
    }

    public override string ToString() =>
        $"{Name} (device {Ordinal}, compute {ComputeCapability.Major}.{ComputeCapability.Minor}, {MultiprocessorCount} SMs, " +
        $"{TotalMemoryBytes / (1L << 20)} MiB, driver CUDA {DriverVersion / 1000}.{DriverVersion % 1000 / 10})";

    public void Dispose()
    {
        if (context == 0)
        {
            return;
        }

        // Releasing the primary context does not destroy it while others (cuBLAS, other CudaDevice instances) hold it.
        CudaDriver.cuDevicePrimaryCtxRelease(Handle);
        if (currentOnThisThread == context)
        {
            currentOnThisThread = 0;
        }

        context = 0;
    }

    private static string ReadName(int handle)
    {
        byte* buffer = stackalloc byte[256];
        CudaException.ThrowIfFailed(CudaDriver.cuDeviceGetName(buffer, 256, handle));
        int length = new ReadOnlySpan<byte>(buffer, 256).IndexOf((byte)0);
        return Encoding.UTF8.GetString(buffer, length < 0 ? 256 : length);
    }
}
