using System.Collections.Generic;
using ShadowKV.Compiler.Frontend;
using ShadowKV.Compiler.Ir;

namespace ShadowKV.Compiler.Passes;

/// <summary>A graph-to-graph pass. Passes are pure: same graph in, same graph out.</summary>
public interface IPass
{
    string Name { get; }

    Graph Run(Graph graph, PassContext context);
}

/// <summary>A problem a pass found in the model, reported by the generator as a diagnostic at <see cref="Origin"/>.</summary>
public sealed record IrDiagnostic(string Id, string Message, SourceOrigin Origin);

/// <summary>What passes may read besides the graph, and where they report problems.</summary>
public sealed class PassContext
{
    public PassContext(ShadowKVSpec? shadowKV) => ShadowKV = shadowKV;

    public ShadowKVSpec? ShadowKV { get; }

    public List<IrDiagnostic> Diagnostics { get; } = new();

    public void Report(string id, string message, SourceOrigin origin) => Diagnostics.Add(new IrDiagnostic(id, message, origin));
}
