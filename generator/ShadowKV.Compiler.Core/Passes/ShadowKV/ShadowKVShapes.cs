using ShadowKV.Compiler.Ir;
using ShadowKV.Compiler.Plans;

namespace ShadowKV.Compiler.Passes.ShadowKV;

/// <summary>
/// The per-layer ShadowKV state and its shapes (SHADOWKV.md): S is the prompt capacity per sequence, D = Hkv·d.
/// Prefill writes all of it; decode reads it as cache values of the same names.
/// </summary>
internal static class ShadowKVShapes
{
    public static readonly TensorType Gram = TensorType.Of(DataType.F32, "B", "Hkv*d", "Hkv*d");
    public static readonly TensorType Basis = TensorType.Of(DataType.F32, "B", "r", "Hkv*d");
    public static readonly TensorType LowRank = TensorType.Of(DataType.BF16, "B", "S", "r");
    public static readonly TensorType Landmarks = TensorType.Of(DataType.BF16, "B", "Hkv", "S/c", "d");
    public static readonly TensorType LandmarkIds = TensorType.Of(DataType.I32, "B", "Hkv", "S/c");
    public static readonly TensorType PerHeadCount = TensorType.Of(DataType.I32, "B", "Hkv");
    public static readonly TensorType Outliers = TensorType.Of(DataType.BF16, "B", "Hkv", "o*c", "d");
    public static readonly TensorType Local = TensorType.Of(DataType.BF16, "B", "Hkv", "(nloc+1)*c", "d");
    public static readonly TensorType PerSequenceCount = TensorType.Of(DataType.I32, "B");
    public static readonly TensorType ValueStore = TensorType.Of(DataType.BF16, "B", "Hkv", "S/c", "c*d");
    public static readonly TensorType Generated = TensorType.Of(DataType.BF16, "B", "Hkv", "max_new", "d");
    public static readonly TensorType Scores = TensorType.Of(DataType.F32, "B", "Hkv", "S/c");
    public static readonly TensorType Slots = TensorType.Of(DataType.I32, "B", "Hkv", "k");
    public static readonly TensorType Working = TensorType.Of(DataType.BF16, "B", "Hkv", "k*c", "d");
    public static readonly TensorType LastQuery = TensorType.Of(DataType.BF16, "B", "Hq*d");

    /// <summary>The landmark table and exact side sets that the landmarks op writes, in its output order.</summary>
    public static readonly (string Name, TensorType Type)[] LandmarkOutputs =
    [
        ("landmarks", Landmarks), ("landmark_ids", LandmarkIds), ("landmark_count", PerHeadCount),
        ("outlier_k", Outliers), ("outlier_v", Outliers), ("local_k", Local), ("local_v", Local), ("local_count", PerSequenceCount),
    ];
}
