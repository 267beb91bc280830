using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace ShadowKV.Compiler.Generator;

/// <summary>
/// The incremental generator: wiring only. Each [Model] class is parsed into an equatable <see cref="ParseResult"/>
/// (GraphGenerator.Parse.cs), compiled by the core pipeline into source text (GraphGenerator.Emit.cs), and added to
/// the compilation. Every step's output is equatable, so an edit that does not change a model changes no output.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed partial class GraphGenerator : IIncrementalGenerator
{
    public const string ModelAttribute = "ShadowKV.Compiler.ModelAttribute";

    /// <summary>The runtime's engine: where the compilation references it, each model also gets a <c>Load</c> method.</summary>
    public const string EngineType = "ShadowKV.Runtime.Engine.InferenceEngine";

    /// <summary>Tracking names of the steps (tests assert they are cached on a second run).</summary>
    public static readonly string[] TrackedSteps = ["Parse", "Compile", "Registry", "Loader"];

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        IncrementalValuesProvider<ParseResult> models = context.SyntaxProvider
            .ForAttributeWithMetadataName(ModelAttribute, static (node, _) => node is ClassDeclarationSyntax, static (ctx, ct) => Parse(ctx, ct))
            .WithTrackingName("Parse");

        IncrementalValuesProvider<GeneratedModel> compiled = models
            .Select(static (model, _) => Compile(model))
            .WithTrackingName("Compile");

        context.RegisterSourceOutput(compiled, static (output, model) =>
        {
            foreach (DiagnosticInfo diagnostic in model.Diagnostics)
            {
                output.ReportDiagnostic(diagnostic.ToDiagnostic());
            }

            if (model.Source.Length > 0)
            {
                output.AddSource(model.HintName, model.Source);
            }
        });

        IncrementalValueProvider<string> registry = compiled
            .Where(static m => m.Source.Length > 0)
            .Select(static (m, _) => m.FullName)
            .Collect()
            .Select(static (names, _) => EmitRegistry(names.OrderBy(n => n, System.StringComparer.Ordinal).ToArray()))
            .WithTrackingName("Registry");
        context.RegisterSourceOutput(registry, static (output, source) => output.AddSource("CompiledModels.g.cs", source));

        // Model.Load(dir, options) needs the runtime, which a model assembly may or may not reference; the bool is
        // equatable, so an edit elsewhere in the compilation re-emits nothing.
        IncrementalValueProvider<bool> referencesRuntime = context.CompilationProvider
            .Select(static (compilation, _) => compilation.GetTypeByMetadataName(EngineType) is not null);
        IncrementalValuesProvider<GeneratedLoader> loaders = compiled
            .Where(static m => m.Source.Length > 0)
            .Combine(referencesRuntime)
            .Select(static (pair, _) => pair.Right ? EmitLoader(pair.Left.FullName) : GeneratedLoader.None)
            .WithTrackingName("Loader");
        context.RegisterSourceOutput(loaders, static (output, loader) =>
        {
            if (loader.Source.Length > 0)
            {
                output.AddSource(loader.HintName, loader.Source);
            }
        });
    }
}
