using System;
using ShadowKV.Runtime.Interop;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;

namespace ShadowKV.Runtime.Cuda;

/// <summary>
/// Every kernel launch goes through here: the configuration is checked against the device before the driver sees
/// it, shared memory above 48 KiB is opted into, and a failure names the kernel, its configuration and the stream.
/// With <c>SKV_CUDA_SYNC=1</c> each launch is followed by a stream synchronise, so an asynchronous fault (illegal
/// address, trap) is reported against the kernel that caused it rather than at some later call.
/// </summary>
public sealed unsafe class Launcher
{
    public const string SynchronizeVariable = "SKV_CUDA_SYNC";

    private readonly CudaDevice device;
    private long launches;

    public Launcher(CudaDevice device, bool? synchronizeEachLaunch = null)
    {
        this.device = device;
        SynchronizeEachLaunch = synchronizeEachLaunch ?? Environment.GetEnvironmentVariable(SynchronizeVariable) == "1";
    }

    public bool SynchronizeEachLaunch { get; }

    public long LaunchCount => Interlocked.Read(ref launches);

    public void Launch(CudaKernel kernel, LaunchConfig config, CudaStream stream, KernelArgs args)
    {
        Validate(kernel, config);
        if (config.SharedMemoryBytes > kernel.MaxDynamicSharedBytes)
        {
            kernel.SetMaxDynamicSharedMemory(config.SharedMemoryBytes);
        }

        device.MakeCurrent();
        CuResult result = CudaDriver.cuLaunchKernel(
            kernel.Handle,
            config.Grid.X, config.Grid.Y, config.Grid.Z,
            config.Block.X, config.Block.Y, config.Block.Z,
            (uint)config.SharedMemoryBytes, stream.Handle, args.Pointers, null);
        Interlocked.Increment(ref launches);
        if (result != CuResult.Success)
        {
            throw new CudaException(result, $"cuLaunchKernel({kernel.Name})", Describe(kernel, config, stream, args));
        }

        if (SynchronizeEachLaunch && !stream.IsCapturing)
        {
            CuResult completed = CudaDriver.cuStreamSynchronize(stream.Handle);
            if (completed != CuResult.Success)
            {
                throw new CudaException(completed, $"kernel {kernel.Name} (synchronised after launch)", Describe(kernel, config, stream, args));
            }
        }
    }

    private void Validate(CudaKernel kernel, LaunchConfig config)
    {
        string? problem =
            config.Grid.Total == 0 || config.Block.Total == 0 ? "an empty grid or block" :
            config.Block.Total > 1024 ? "more than 1024 threads per block" :
            config.Grid.Y > 65535 || config.Grid.Z > 65535 ? "grid.y or grid.z above 65535" :
            config.SharedMemoryBytes < 0 || config.SharedMemoryBytes > device.MaxSharedMemoryPerBlockOptin
                ? $"dynamic shared memory outside [0, {device.MaxSharedMemoryPerBlockOptin}]" :
            null;
        if (problem is not null)
        {
            throw new ArgumentException($"Launch of kernel '{kernel.Name}' with {config} has {problem}.", nameof(config));
        }
    }

    private static string Describe(CudaKernel kernel, LaunchConfig config, CudaStream stream, KernelArgs args) =>
        $"kernel '{kernel.Name}' [{kernel.LoweredName}] {config}, {args.Count} args, on {stream}";
}
