using Microsoft.CodeAnalysis;

namespace ShadowKV.Compiler.Generator;

/// <summary>Every diagnostic the generator reports (tracked in AnalyzerReleases.Unshipped.md).</summary>
internal static class Diagnostics
{
    private const string Category = "ShadowKV.Compiler";

    public static readonly DiagnosticDescriptor ModelClassShape = Error("SKV0001", "Model class must be static partial",
        "Model class '{0}' must be declared 'static partial' so the generator can add Cuda, Graph and Plan to it");

    public static readonly DiagnosticDescriptor LayerMethodCount = Error("SKV0002", "Model needs exactly one [Layer] method",
        "Model class '{0}' has {1} [Layer] methods; declare exactly one, describing one decoder block");

    public static readonly DiagnosticDescriptor LayerSignature = Error("SKV0003", "Invalid [Layer] method signature",
        "[Layer] method '{0}' must be 'static Tensor {0}(Tensor x, <LayerWeights> w, AttentionContext ctx)': {1}");

    public static readonly DiagnosticDescriptor UnsupportedStatement = Error("SKV0004", "Unsupported statement in a graph method",
        "A graph method is straight-line code: {0} is not supported. Write one [Layer] block with local variables; the compiler repeats it for every layer.");

    public static readonly DiagnosticDescriptor CallOutsideOps = Error("SKV0005", "Call outside Ops in a graph method",
        "'{0}' cannot be compiled to a kernel: a graph method may only call ShadowKV.Compiler.Ops methods and the Tensor operators + and *");

    public static readonly DiagnosticDescriptor UnknownWeight = Error("SKV0006", "Unknown weight",
        "{0}");

    public static readonly DiagnosticDescriptor ShapeMismatch = Error("SKV0007", "Shape mismatch",
        "{0}");

    public static readonly DiagnosticDescriptor UnsupportedExpression = Error("SKV0008", "Unsupported expression in a graph method",
        "{0}");

    public static readonly DiagnosticDescriptor AttentionCount = Error("SKV0009", "Exactly one attention per layer",
        "{0}");

    public static readonly DiagnosticDescriptor InvalidShadowKV = Error("SKV0010", "Invalid [ShadowKV] parameters",
        "[ShadowKV] {0}");

    public static readonly DiagnosticDescriptor NotLowerable = Error("SKV0011", "Operation cannot be lowered",
        "{0}");

    public static readonly DiagnosticDescriptor InternalError = Error("SKV0012", "Internal compiler error",
        "The ShadowKV compiler failed on model '{0}': {1}. This is a compiler bug; please report it with the model's source.");

    public static DiagnosticDescriptor ById(string id) => id switch
    {
        "SKV0006" => UnknownWeight,
        "SKV0007" => ShapeMismatch,
        "SKV0009" => AttentionCount,
        "SKV0011" => NotLowerable,
        "SKV0012" => InternalError,
        _ => UnsupportedExpression,
    };

    private static DiagnosticDescriptor Error(string id, string title, string message) =>
        new(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);
}
