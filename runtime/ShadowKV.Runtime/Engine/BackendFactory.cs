using ShadowKV.Compiler.Plans;
using ShadowKV.Runtime.Cpu;
using ShadowKV.Runtime.Cuda;
using ShadowKV.Runtime.Gpu;
using ShadowKV.Runtime.Interop;
using ShadowKV.Runtime.Engine.Checkpoints;
using ShadowKV.Runtime.Engine.Execution;

namespace ShadowKV.Runtime.Engine;

/// <summary>
/// What a backend is built from: the compiled model, its config, the engine options and the weights, bound checkpoint
/// tensors in their stored dtype (a downloaded checkpoint, or the built-in model's <see cref="RandomCheckpoint"/>).
/// The backend copies what it needs while it is built; the checkpoint may be closed afterwards.
/// </summary>
public sealed record BackendInputs(
    CompiledModel Model,
    ModelConfig Config,
    EngineOptions Options,
    BoundWeights Checkpoint);

/// <summary>Builds the <see cref="IModelBackend"/> for a device.</summary>
public static class BackendFactory
{
    private static readonly Lazy<string?> GpuProblem = new(ProbeGpu);

    /// <summary>Whether a CUDA GPU can be opened on this machine (the driver loads and device 0 initialises).</summary>
    public static bool IsGpuAvailable => GpuProblem.Value is null;

    /// <summary>
    /// The backend for <paramref name="device"/>: <see cref="DeviceKind.Cpu"/> is the managed float32 backend,
    /// <see cref="DeviceKind.Gpu"/> the compiled CUDA plan (refused with the reason when it cannot run this model
    /// here), and <see cref="DeviceKind.Auto"/> the GPU when it can, else the CPU.
    /// </summary>
    public static IModelBackend Create(DeviceKind device, BackendInputs inputs) => device switch
    {
        DeviceKind.Cpu => CreateCpu(inputs),
        DeviceKind.Gpu => GpuRefusal(inputs) is { } reason ? throw new NotSupportedException(reason) : CreateGpu(inputs),
        _ => GpuRefusal(inputs) is null ? CreateGpu(inputs) : CreateCpu(inputs),
    };

    /// <summary>Why the GPU backend cannot run these inputs here, or null when it can.</summary>
    public static string? GpuRefusal(BackendInputs inputs)
    {
        if (GpuProblem.Value is { } problem)
        {
            return $"No usable GPU: {problem}";
        }

        // The ShadowKV key-rebuild kernel works on tensor-core tiles of 16 dims (SHADOWKV.md: d a multiple of 32).
        if (inputs.Options.Variant == AttentionVariant.ShadowKV && inputs.Config.HeadDim % 32 != 0)
        {
            return $"The ShadowKV GPU kernels need head_dim to be a multiple of 32; this model has {inputs.Config.HeadDim}. Use --kv full or --device cpu.";
        }

        return null;
    }

    private static IModelBackend CreateGpu(BackendInputs inputs) =>
        GpuBackend.Create(inputs.Model, inputs.Config, inputs.Checkpoint, inputs.Options);

    private static string? ProbeGpu()
    {
        try
        {
            using CudaDevice device = CudaDevice.Open();
            return null;
        }
        catch (Exception exception) when (exception is DllNotFoundException or CudaException or EntryPointNotFoundException)
        {
            return exception.Message;
        }
    }

    private static CpuBackend CreateCpu(BackendInputs inputs) =>
        new(inputs.Model, inputs.Config, CpuWeights.FromCheckpoint(inputs.Checkpoint), inputs.Options);
}
