using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using ShadowKV.Compiler.Collections;

namespace ShadowKV.Compiler.Generator;

/// <summary>A diagnostic as equatable data (Roslyn's Location and Diagnostic are not), rebuilt at output time.</summary>
internal sealed record DiagnosticInfo(string Id, EquatableArray<string> Arguments, LocationInfo? Location)
{
    public Diagnostic ToDiagnostic()
    {
        DiagnosticDescriptor descriptor = Id switch
        {
            "SKV0001" => Diagnostics.ModelClassShape,
            "SKV0002" => Diagnostics.LayerMethodCount,
            "SKV0003" => Diagnostics.LayerSignature,
            "SKV0004" => Diagnostics.UnsupportedStatement,
            "SKV0005" => Diagnostics.CallOutsideOps,
            "SKV0010" => Diagnostics.InvalidShadowKV,
            _ => Diagnostics.ById(Id),
        };
        return Diagnostic.Create(descriptor, Location?.ToLocation(), System.Linq.Enumerable.ToArray(System.Linq.Enumerable.Cast<object>(Arguments)));
    }
}

/// <summary>A source location as equatable data.</summary>
internal sealed record LocationInfo(string FilePath, int Start, int Length, int StartLine, int StartColumn, int EndLine, int EndColumn)
{
    public static LocationInfo? From(Location location)
    {
        if (location.SourceTree is null)
        {
            return null;
        }

        FileLinePositionSpan span = location.GetLineSpan();
        return new LocationInfo(location.SourceTree.FilePath, location.SourceSpan.Start, location.SourceSpan.Length,
            span.StartLinePosition.Line, span.StartLinePosition.Character, span.EndLinePosition.Line, span.EndLinePosition.Character);
    }

    public Location ToLocation() => Microsoft.CodeAnalysis.Location.Create(FilePath, new TextSpan(Start, Length),
        new LinePositionSpan(new LinePosition(StartLine, StartColumn), new LinePosition(EndLine, EndColumn)));
}
