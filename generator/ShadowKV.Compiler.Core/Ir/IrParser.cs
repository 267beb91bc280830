using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using ShadowKV.Compiler.Plans;

namespace ShadowKV.Compiler.Ir;

/// <summary>
/// Reads the printer's text back into a graph, so pass tests can state the input IR as text (before → expected).
/// The inverse of <see cref="IrPrinter"/>: Print(Parse(text)) == text for printed graphs.
/// </summary>
public static class IrParser
{
    private static readonly Regex NodeLine = new(
        @"^(?<results>%[^=]+?) = (?<op>[a-z_]+)(\((?<inputs>[^)]*)\))?( \{(?<attrs>.*?)\}(?= : |  // |$))?( : (?<types>.+?))?(  // (?<file>[^:]+):(?<line>\d+))?$",
        RegexOptions.CultureInvariant);

    private static readonly Regex TypeText = new(@"\[(?<dims>[^\]]*)\] (?<type>f32|bf16|i32)", RegexOptions.CultureInvariant);

    public static Graph Parse(string text)
    {
        string[] lines = text.Replace("\r\n", "\n").Split('\n').Select(l => l.TrimEnd()).Where(l => l.Length > 0).ToArray();
        if (lines.Length == 0 || !lines[0].StartsWith("graph ", StringComparison.Ordinal))
        {
            throw new FormatException("IR text must start with 'graph <Model>.<name>'.");
        }

        string fullName = lines[0].Substring("graph ".Length);
        int dot = fullName.IndexOf('.');
        string model = fullName.Substring(0, dot), name = fullName.Substring(dot + 1);
        PhaseKind? phase = name.StartsWith("prefill", StringComparison.Ordinal) ? PhaseKind.Prefill
            : name.StartsWith("decode", StringComparison.Ordinal) ? PhaseKind.Decode : null;
        AttentionVariant variant = name.EndsWith("shadowkv", StringComparison.Ordinal) ? AttentionVariant.ShadowKV : AttentionVariant.Full;

        var nodes = new List<Node>();
        NodeScope scope = NodeScope.Prologue;
        string layerInput = string.Empty, layerOutput = string.Empty;
        string[] outputs = Array.Empty<string>();
        foreach (string line in lines.Skip(1))
        {
            if (line == "prologue:")
            {
                scope = NodeScope.Prologue;
            }
            else if (line.StartsWith("layer (", StringComparison.Ordinal))
            {
                scope = NodeScope.Layer;
                string[] carry = line.Substring("layer (".Length).TrimEnd(':', ')').Split(new[] { " -> " }, StringSplitOptions.None);
                layerInput = carry[0].TrimStart('%');
                layerOutput = carry[1].TrimStart('%');
            }
            else if (line == "epilogue:")
            {
                scope = NodeScope.Epilogue;
            }
            else if (line.StartsWith("outputs:", StringComparison.Ordinal))
            {
                outputs = Names(line.Substring("outputs:".Length));
            }
            else
            {
                nodes.Add(ParseNode(line.Trim(), scope, model));
            }
        }

        return new Graph(model, name, phase, variant, nodes.ToArray(), layerInput, layerOutput, outputs);
    }

    private static Node ParseNode(string line, NodeScope scope, string model)
    {
        Match match = NodeLine.Match(line);
        if (!match.Success)
        {
            throw new FormatException($"Cannot parse IR line: {line}");
        }

        string[] results = Names(match.Groups["results"].Value);
        TensorType?[] types = match.Groups["types"].Success
            ? TypeText.Matches(match.Groups["types"].Value).Cast<Match>().Select(ParseType).ToArray()
            : new TensorType?[results.Length];
        string[] inputs = match.Groups["inputs"].Success && match.Groups["inputs"].Value.Length > 0
            ? match.Groups["inputs"].Value.Split(',').Select(i => i.Trim()).Select(i => i == "_" ? string.Empty : i.TrimStart('%')).ToArray()
            : Array.Empty<string>();
        Attr[] attributes = match.Groups["attrs"].Success
            ? match.Groups["attrs"].Value.Split(new[] { ", " }, StringSplitOptions.RemoveEmptyEntries)
                .Select(a => new Attr(a.Substring(0, a.IndexOf('=')), a.Substring(a.IndexOf('=') + 1))).ToArray()
            : Array.Empty<Attr>();
        SourceOrigin origin = match.Groups["file"].Success
            ? new SourceOrigin(match.Groups["file"].Value, int.Parse(match.Groups["line"].Value, System.Globalization.CultureInfo.InvariantCulture), 1, string.Empty)
            : SourceOrigin.Compiler(model + ".cs", "compiler");
        var values = results.Select((r, i) => new Value(r, i < types.Length ? types[i] : null)).ToArray();
        return new Node(match.Groups["op"].Value, values, inputs, attributes, scope, origin);
    }

    private static TensorType ParseType(Match match)
    {
        string[] dims = match.Groups["dims"].Value.Split(new[] { ", " }, StringSplitOptions.RemoveEmptyEntries);
        DataType type = match.Groups["type"].Value switch { "f32" => DataType.F32, "bf16" => DataType.BF16, _ => DataType.I32 };
        return TensorType.Of(type, dims);
    }

    private static string[] Names(string text) =>
        text.Split(',').Select(n => n.Trim().TrimStart('%')).Where(n => n.Length > 0).ToArray();
}
