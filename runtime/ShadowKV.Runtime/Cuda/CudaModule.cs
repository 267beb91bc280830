using System;
using ShadowKV.Runtime.Interop;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;

namespace ShadowKV.Runtime.Cuda;

/// <summary>A loaded cubin; hands out its kernels by name expression (the same strings given to the compiler).</summary>
public sealed unsafe class CudaModule : IDisposable
{
    private readonly CudaDevice device;
    private readonly IReadOnlyDictionary<string, string> loweredNames;
    private readonly Dictionary<string, CudaKernel> kernels = new(StringComparer.Ordinal);
    private nint handle;

    private CudaModule(CudaDevice device, nint handle, string name, IReadOnlyDictionary<string, string> loweredNames)
    {
        this.device = device;
        this.handle = handle;
        this.loweredNames = loweredNames;
        Name = name;
    }

    public string Name { get; }

    /// <summary>Loads kernels compiled by <see cref="KernelCache"/>. Fails with CUDA_ERROR_NO_BINARY_FOR_GPU when
    /// they were compiled for another architecture.</summary>
    public static CudaModule Load(CudaDevice device, CompiledKernels compiled) =>
        Load(device, compiled.Cubin, compiled.LoweredNames, $"{compiled.SourceName} ({compiled.Arch})");

    public static CudaModule Load(CudaDevice device, ReadOnlySpan<byte> image, IReadOnlyDictionary<string, string> loweredNames, string name)
    {
        device.MakeCurrent();
        fixed (byte* p = image)
        {
            CudaException.ThrowIfFailed(CudaDriver.cuModuleLoadData(out nint module, p), $"module {name}");
            return new CudaModule(device, module, name, loweredNames);
        }
    }

    /// <summary>The kernel for a name expression given at compile time (e.g. <c>"llama_decode_attention&lt;128,4&gt;"</c>),
    /// or a plain symbol name for <c>extern "C"</c> kernels.</summary>
    public CudaKernel GetKernel(string nameExpression)
    {
        ObjectDisposedException.ThrowIf(handle == 0, this);
        lock (kernels)
        {
            if (kernels.TryGetValue(nameExpression, out CudaKernel? kernel))
            {
                return kernel;
            }

            string symbol = loweredNames.TryGetValue(nameExpression, out string? lowered) ? lowered : nameExpression;
            device.MakeCurrent();
            CudaException.ThrowIfFailed(
                CudaDriver.cuModuleGetFunction(out nint function, handle, symbol),
                $"kernel '{nameExpression}' (symbol {symbol}) in {Name}");
            kernel = new CudaKernel(nameExpression, symbol, function);
            kernels[nameExpression] = kernel;
            return kernel;
        }
    }

    public void Dispose()
    {
        if (handle == 0)
        {
            return;
        }

        device.MakeCurrent();
        CudaDriver.cuModuleUnload(handle);
        handle = 0;
    }
}

/// <summary>A kernel of a loaded module. Valid while its <see cref="CudaModule"/> is loaded.</summary>
public sealed class CudaKernel
{
    /// <summary>Dynamic shared memory a kernel may use without opting in (CUDA's 48 KiB default).</summary>
    public const int DefaultMaxDynamicSharedBytes = 48 * 1024;

    internal CudaKernel(string name, string loweredName, nint handle)
    {
        Name = name;
        LoweredName = loweredName;
        Handle = handle;
    }

    /// <summary>The name expression, used in every error message about this kernel.</summary>
    public string Name { get; }

    public string LoweredName { get; }

    internal nint Handle { get; }

    public int MaxDynamicSharedBytes { get; private set; } = DefaultMaxDynamicSharedBytes;

    /// <summary>Opts into more than 48 KiB of dynamic shared memory (up to the device's optin limit).</summary>
    public void SetMaxDynamicSharedMemory(int bytes)
    {
        CudaException.ThrowIfFailed(
            CudaDriver.cuFuncSetAttribute(Handle, CuFunctionAttribute.MaxDynamicSharedSizeBytes, bytes),
            $"kernel '{Name}', {bytes} bytes");
        MaxDynamicSharedBytes = bytes;
    }

    public override string ToString() => Name;
}
