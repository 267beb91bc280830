using System.Linq;
using ShadowKV.Compiler.Collections;

namespace ShadowKV.Compiler.Ir;

/// <summary>Where a node runs: once before the layers, in every layer, or once after.</summary>
public enum NodeScope
{
    Prologue,
    Layer,
    Epilogue,
}

/// <summary>A value a node defines. <see cref="Type"/> is null until shape inference has run.</summary>
public sealed record Value(string Name, TensorType? Type);

/// <summary>A key/value attribute of a node; values are symbols, expressions or literals, kept as text.</summary>
public sealed record Attr(string Key, string Value);

/// <summary>
/// One IR node: an op applied to named values. Inputs are value names in the op's role order ("" for an absent
/// optional role). Immutable; passes build new graphs.
/// </summary>
public sealed record Node(
    string Op,
    EquatableArray<Value> Results,
    EquatableArray<string> Inputs,
    EquatableArray<Attr> Attributes,
    NodeScope Scope,
    SourceOrigin Origin)
{
    public string Result => Results[0].Name;

    public TensorType? Type => Results[0].Type;

    public string? Attribute(string key) => Attributes.FirstOrDefault(a => a.Key == key)?.Value;

    public Node WithAttribute(string key, string value) =>
        this with { Attributes = Attributes.Where(a => a.Key != key).Append(new Attr(key, value)).OrderBy(a => a.Key, System.StringComparer.Ordinal).ToArray() };
}
