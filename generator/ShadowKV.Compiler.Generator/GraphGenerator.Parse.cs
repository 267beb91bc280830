using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using ShadowKV.Compiler.Collections;
using ShadowKV.Compiler.Frontend;
using ShadowKV.Compiler.Ir;

namespace ShadowKV.Compiler.Generator;

/// <summary>What the parser hands on: the spec (null when the model cannot be compiled) and diagnostics.</summary>
internal sealed record ParseResult(ModelSpec? Spec, string FilePath, EquatableArray<string> FilePaths, EquatableArray<DiagnosticInfo> Diagnostics);

public sealed partial class GraphGenerator
{
    private const string AttributeNamespace = "ShadowKV.Compiler";

    // The symbols a [Weight] shape may use: the model's dimensions from config.json.
    private static readonly HashSet<string> ShapeSymbols = new(["hidden", "ffn", "vocab", "Hq", "Hkv", "d"]);

    private static ParseResult Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        var symbol = (INamedTypeSymbol)context.TargetSymbol;
        var syntax = (ClassDeclarationSyntax)context.TargetNode;
        string path = syntax.SyntaxTree.FilePath;
        var diagnostics = new List<DiagnosticInfo>();
        void Report(string id, Location location, params string[] args) => diagnostics.Add(new DiagnosticInfo(id, args, LocationInfo.From(location)));
        ParseResult Fail() => new(null, path, new[] { path }, diagnostics.ToArray());

        if (!symbol.IsStatic || !syntax.Modifiers.Any(SyntaxKind.PartialKeyword))
        {
            Report("SKV0001", syntax.Identifier.GetLocation(), symbol.Name);
            return Fail();
        }

        var layers = symbol.GetMembers().OfType<IMethodSymbol>().Where(m => HasAttribute(m, "LayerAttribute")).ToList();
        if (layers.Count != 1)
        {
            Report("SKV0002", syntax.Identifier.GetLocation(), symbol.Name, layers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
            return Fail();
        }

        IMethodSymbol layer = layers[0];
        Location layerLocation = layer.Locations[0];
        string? signatureProblem = SignatureProblem(layer);
        if (signatureProblem is not null)
        {
            Report("SKV0003", layerLocation, layer.Name, signatureProblem);
            return Fail();
        }

        ShadowKVSpec? shadowKV = ParseShadowKV(symbol, syntax, Report);
        var weights = ParseLayerWeights((INamedTypeSymbol)layer.Parameters[1].Type, Report);
        var methodSyntax = (MethodDeclarationSyntax)layer.DeclaringSyntaxReferences[0].GetSyntax(cancellationToken);
        SemanticModel model = context.SemanticModel.Compilation.GetSemanticModel(methodSyntax.SyntaxTree);
        var body = new BodyParser(layer, weights, model, Report);
        var (ops, output) = body.Parse(methodSyntax, cancellationToken);
        if (diagnostics.Count > 0)
        {
            return Fail();
        }

        var spec = new ModelSpec(
            symbol.ContainingNamespace.IsGlobalNamespace ? string.Empty : symbol.ContainingNamespace.ToDisplayString(),
            symbol.Name,
            Path.GetFileName(path),
            StringArray(symbol, "ModelAttribute", "Architectures"),
            shadowKV,
            ParseWeightMap(symbol),
            weights.Values.Select(w => w.Spec).OrderBy(w => w.Value, System.StringComparer.Ordinal).ToArray(),
            ops.ToArray(),
            layer.Parameters[0].Name,
            output);
        string[] paths = new[] { path }.Concat(weights.Values.Select(w => w.Path)).Distinct().OrderBy(p => p, System.StringComparer.Ordinal).ToArray();
        return new ParseResult(spec, path, paths, diagnostics.ToArray());
    }

    private static string? SignatureProblem(IMethodSymbol layer)
    {
        if (!layer.IsStatic)
        {
            return "it must be static";
        }

        if (!IsCompilerType(layer.ReturnType, "Tensor"))
        {
            return "it must return Tensor";
        }

        if (layer.Parameters.Length != 3 || !IsCompilerType(layer.Parameters[0].Type, "Tensor")
            || layer.Parameters[1].Type is not INamedTypeSymbol { TypeKind: TypeKind.Class } || !IsCompilerType(layer.Parameters[2].Type, "AttentionContext"))
        {
            return "its parameters must be (Tensor x, <a class with [Weight] properties> w, AttentionContext ctx)";
        }

        return null;
    }

    internal sealed record LayerWeight(WeightSpec Spec, string Path);

    private static Dictionary<string, LayerWeight> ParseLayerWeights(INamedTypeSymbol layerClass, System.Action<string, Location, string[]> report)
    {
        var weights = new Dictionary<string, LayerWeight>();
        foreach (IPropertySymbol property in layerClass.GetMembers().OfType<IPropertySymbol>())
        {
            AttributeData? attribute = property.GetAttributes().FirstOrDefault(a => IsCompilerType(a.AttributeClass, "WeightAttribute"));
            if (attribute is null || attribute.ConstructorArguments.Length != 2)
            {
                continue; // referencing it from the graph reports SKV0006
            }

            string checkpoint = attribute.ConstructorArguments[0].Value as string ?? string.Empty;
            string[] shape = attribute.ConstructorArguments[1].Values.Select(v => v.Value as string ?? string.Empty).ToArray();
            Location location = property.Locations[0];
            string? unknown = shape.SelectMany(d => d.Split('*')).FirstOrDefault(f => !ShapeSymbols.Contains(f.Trim()) && !f.Trim().All(char.IsDigit));
            if (checkpoint.Length == 0 || shape.Length is 0 or > 2 || unknown is not null)
            {
                report("SKV0006", location, new[]
                {
                    $"[Weight] on '{layerClass.Name}.{property.Name}' needs a checkpoint name and a 1-D or 2-D shape over hidden, ffn, vocab, Hq, Hkv, d" +
                    (unknown is null ? "" : $" (unknown dimension '{unknown}')"),
                });
                continue;
            }

            FileLinePositionSpan line = location.GetLineSpan();
            var origin = new SourceOrigin(Path.GetFileName(line.Path), line.StartLinePosition.Line + 1, line.StartLinePosition.Character + 1,
                property.Name, location.SourceSpan.Start, location.SourceSpan.Length);
            weights[property.Name] = new LayerWeight(new WeightSpec("w." + SnakeCase(property.Name), checkpoint, shape.Select(Dims.Canonical).ToArray(), origin), line.Path);
        }

        return weights;
    }

    private static ShadowKVSpec? ParseShadowKV(INamedTypeSymbol model, ClassDeclarationSyntax syntax, System.Action<string, Location, string[]> report)
    {
        AttributeData? attribute = model.GetAttributes().FirstOrDefault(a => IsCompilerType(a.AttributeClass, "ShadowKVAttribute"));
        if (attribute is null)
        {
            return null;
        }

        int Named(string name, int fallback) => attribute.NamedArguments.Where(a => a.Key == name).Select(a => (int)a.Value.Value!).DefaultIfEmpty(fallback).First();
        var spec = new ShadowKVSpec(Named("Rank", 160), Named("ChunkSize", 8), Named("BudgetTokens", 2048), Named("OutlierChunks", 48),
            Named("LocalChunks", 4), (ValuePlacement)Named("Values", 0));
        string? problem = spec switch
        {
            { Rank: <= 0 } => "Rank must be positive",
            { ChunkSize: <= 0 } => "ChunkSize must be positive",
            { BudgetTokens: <= 0 } => "BudgetTokens must be positive",
            _ when spec.BudgetTokens % spec.ChunkSize != 0 => $"BudgetTokens ({spec.BudgetTokens}) must be a multiple of ChunkSize ({spec.ChunkSize})",
            { OutlierChunks: < 0 } => "OutlierChunks must not be negative",
            { LocalChunks: < 0 } => "LocalChunks must not be negative",
            _ => null,
        };
        if (problem is not null)
        {
            Location location = attribute.ApplicationSyntaxReference?.GetSyntax().GetLocation() ?? syntax.Identifier.GetLocation();
            report("SKV0010", location, new[] { problem });
            return null;
        }

        return spec;
    }

    private static WeightMapSpec ParseWeightMap(INamedTypeSymbol model)
    {
        AttributeData? attribute = model.GetAttributes().FirstOrDefault(a => IsCompilerType(a.AttributeClass, "WeightMapAttribute"));
        WeightMapSpec map = WeightMapSpec.Default;
        if (attribute is null)
        {
            return map;
        }

        string Named(string name, string fallback) => attribute.NamedArguments.Where(a => a.Key == name).Select(a => a.Value.Value as string).FirstOrDefault() ?? fallback;
        return new WeightMapSpec(Named("LayerPrefix", map.LayerPrefix), Named("Embedding", map.Embedding), Named("FinalNorm", map.FinalNorm), Named("LmHead", map.LmHead));
    }

    private static string[] StringArray(ISymbol symbol, string attributeName, string property) =>
        symbol.GetAttributes().Where(a => IsCompilerType(a.AttributeClass, attributeName))
            .SelectMany(a => a.NamedArguments.Where(n => n.Key == property))
            .SelectMany(n => n.Value.Values.Select(v => v.Value as string ?? string.Empty)).ToArray();

    internal static bool IsCompilerType(ITypeSymbol? type, string name) =>
        type is not null && type.Name == name && type.ContainingNamespace.ToDisplayString() == AttributeNamespace;

    private static bool HasAttribute(ISymbol symbol, string name) => symbol.GetAttributes().Any(a => IsCompilerType(a.AttributeClass, name));

    /// <summary><c>QProj</c> → <c>q_proj</c>: weight values read like the checkpoint's names.</summary>
    internal static string SnakeCase(string name)
    {
        var text = new System.Text.StringBuilder();
        for (int i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0)
            {
                text.Append('_');
            }

            text.Append(char.ToLowerInvariant(name[i]));
        }

        return text.ToString();
    }
}
