using ShadowKV.Compiler.Plans;
using ShadowKV.Runtime.Engine.Checkpoints;

namespace ShadowKV.Runtime.Cpu;

/// <summary>
/// The plan's weights as float32 arrays, looked up by graph name ("w.q_proj") and layer. Converted once at load:
/// the CPU computes in float32 throughout, whatever the checkpoint's dtype.
/// </summary>
public sealed class CpuWeights
{
    private readonly Dictionary<(string Name, int Layer), float[]> _byKey = new();

    private CpuWeights()
    {
    }

    /// <summary>Bytes the weights take as bf16 (what a GPU holds), for memory reports.</summary>
    public long BFloat16Bytes { get; private set; }

    /// <summary>Bytes the weights take here, as float32.</summary>
    public long Float32Bytes => BFloat16Bytes * 2;

    /// <summary>Converts every bound checkpoint tensor to float32.</summary>
    public static CpuWeights FromCheckpoint(BoundWeights bound)
    {
        var weights = new CpuWeights();
        foreach (BoundWeight weight in bound.All)
        {
            weights.Add(weight.Binding.Name, weight.Layer, weight.Tensor.ToFloat32());
        }

        return weights;
    }

    /// <summary>The float32 values of weight <paramref name="name"/> for <paramref name="layer"/> (ignored for model-wide weights).</summary>
    public float[] Get(string name, int layer) =>
        _byKey.TryGetValue((name, layer), out float[]? perLayer) ? perLayer
        : _byKey.TryGetValue((name, -1), out float[]? global) ? global
        : throw new KeyNotFoundException($"The plan reads weight '{name}' (layer {layer}), which was not bound.");

    private void Add(string name, int? layer, float[] values)
    {
        _byKey[(name, layer ?? -1)] = values;
        BFloat16Bytes += values.LongLength * 2;
    }
}
