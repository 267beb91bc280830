using ShadowKV.Compiler.Plans;
using ShadowKV.Runtime.Cpu;
using ShadowKV.Runtime.Engine.Checkpoints;
using ShadowKV.Runtime.Engine.Execution;

namespace ShadowKV.Runtime.Engine;

/// <summary>
/// What a backend is built from: the compiled model, its config, the engine options and the weights — bound checkpoint
/// tensors (<see cref="Checkpoint"/>, kept in their stored dtype for a GPU upload) or in-memory float32 tensors under
/// checkpoint names (<see cref="Tensors"/>, the built-in random model).
/// </summary>
public sealed record BackendInputs(
    CompiledModel Model,
    ModelConfig Config,
    EngineOptions Options,
    BoundWeights? Checkpoint,
    IReadOnlyDictionary<string, float[]>? Tensors);

/// <summary>Builds the <see cref="IModelBackend"/> for a device. The GPU backend registers here when it exists.</summary>
public static class BackendFactory
{
    /// <summary>Whether a GPU backend is usable in this build and on this machine.</summary>
    public static bool IsGpuAvailable => false;

    /// <summary>
    /// The backend for <paramref name="device"/>: <see cref="DeviceKind.Cpu"/> is the managed float32 backend;
    /// <see cref="DeviceKind.Gpu"/> is refused until a GPU backend is built in; <see cref="DeviceKind.Auto"/> picks the
    /// GPU when available, else the CPU.
    /// </summary>
    public static IModelBackend Create(DeviceKind device, BackendInputs inputs) => device switch
    {
        DeviceKind.Cpu => CreateCpu(inputs),
        DeviceKind.Gpu => throw new NotSupportedException("GPU backend not available in this build."),
        _ => IsGpuAvailable ? Create(DeviceKind.Gpu, inputs) : CreateCpu(inputs),
    };

    private static CpuBackend CreateCpu(BackendInputs inputs)
    {
        CpuWeights weights = inputs.Checkpoint is not null ? CpuWeights.FromCheckpoint(inputs.Checkpoint)
            : inputs.Tensors is not null ? CpuWeights.FromTensors(inputs.Model.Weights, inputs.Config, inputs.Tensors)
            : throw new ArgumentException("A backend needs checkpoint weights or in-memory tensors.", nameof(inputs));
        return new CpuBackend(inputs.Model, inputs.Config, weights, inputs.Options);
    }
}
