using System.Linq;
using ShadowKV.Compiler.Collections;
using ShadowKV.Compiler.Plans;

namespace ShadowKV.Compiler.Ir;

/// <summary>A tensor's symbolic shape (dims are size expressions such as <c>T</c> or <c>Hq*d</c>) and storage type.</summary>
public sealed record TensorType(EquatableArray<string> Shape, DataType Type)
{
    public static TensorType Of(DataType type, params string[] shape) => new(shape.Select(Dims.Canonical).ToArray(), type);

    public string Last => Shape[Shape.Count - 1];

    public TensorType WithType(DataType type) => this with { Type = type };

    public TensorType WithLast(string dim) => new(Shape.Take(Shape.Count - 1).Concat(new[] { Dims.Canonical(dim) }).ToArray(), Type);

    public override string ToString() => $"[{string.Join(", ", Shape)}] {Dims.Name(Type)}";
}
