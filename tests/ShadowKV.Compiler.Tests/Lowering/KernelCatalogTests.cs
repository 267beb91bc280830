using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text.RegularExpressions;
using ShadowKV.Compiler.Lowering;
using ShadowKV.Compiler.Plans;

namespace ShadowKV.Compiler.Tests.Lowering;

// Each catalog entry agrees with its .cuh file: the file is embedded, declares one SKV_KERNEL with as many int
// template parameters as the entry binds, and its parameter list is the entry's declarations, in order.
public sealed partial class KernelCatalogTests
{
    private static readonly Assembly Core = typeof(KernelCatalog).Assembly;

    private static readonly Dictionary<string, long> SampleSymbols = new(StringComparer.Ordinal)
    {
        ["T"] = 300, ["B"] = 3, ["S"] = 4096, ["hidden"] = 4096, ["ffn"] = 14336, ["vocab"] = 128256,
        ["Hq"] = 32, ["Hkv"] = 8, ["d"] = 128, ["G"] = 4, ["rows"] = 300, ["row_words"] = 4096,
    };

    public static TheoryData<string> Suffixes => new(KernelCatalog.All.Select(t => t.Suffix));

    public static TheoryData<string> DenseSuffixes => new(KernelCatalog.Dense.Select(t => t.Suffix));

    [Fact]
    public void SuffixesAreUnique() =>
        Assert.Equal(KernelCatalog.All.Count, KernelCatalog.All.Select(t => t.Suffix).Distinct(StringComparer.Ordinal).Count());

    [Theory]
    [MemberData(nameof(Suffixes))]
    public void FileMatchesEntry(string suffix)
    {
        KernelTemplate entry = KernelCatalog.All.Single(t => t.Suffix == suffix);
        string source = ReadTemplate(entry.File);

        Assert.Single(Regex.Matches(source, @"\bSKV_KERNEL\b"));
        Assert.Single(Regex.Matches(source, @"\b__global__\b"));

        Match template = TemplateHeader().Match(source);
        string[] templateParameters = template.Success ? SplitTopLevel(template.Groups[1].Value) : [];
        Assert.All(templateParameters, p => Assert.Matches(@"^int [A-Z][A-Z0-9_]*$", p));
        Assert.Equal(entry.TemplateParameters.Count, templateParameters.Length);

        Assert.Equal(entry.Parameters.Select(p => Normalize(p.Declaration)), KernelParameters(source));
    }

    [Theory]
    [MemberData(nameof(DenseSuffixes))]
    public void BindingsAndSizesResolve(string suffix)
    {
        KernelTemplate entry = KernelCatalog.Dense.Single(t => t.Suffix == suffix);
        OpContracts.All.TryGetValue(entry.Op, out OpContract? contract);
        foreach (KernelParameter parameter in entry.Parameters)
        {
            int colon = parameter.Binding.IndexOf(':');
            string kind = parameter.Binding[..colon], value = parameter.Binding[(colon + 1)..];
            switch (kind)
            {
                case "in" when contract is not null:
                    Assert.Contains(value, contract.Inputs);
                    break;
                case "out" when contract is not null:
                    Assert.Contains(value, contract.Outputs);
                    break;
                case "in" or "out":
                    Assert.Contains(entry.Op, new[] { KernelCatalog.ArgmaxOp, KernelCatalog.SampleTopPOp });
                    break;
                case "attr":
                    Assert.Contains(value, contract!.Attributes);
                    Assert.StartsWith("float ", parameter.Declaration, StringComparison.Ordinal);
                    break;
                case "sym":
                    Assert.True(SymbolicExpression.Evaluate(value, SampleSymbols) > 0, parameter.Binding);
                    Assert.StartsWith("int ", parameter.Declaration, StringComparison.Ordinal);
                    break;
                case "scratch":
                    Assert.True(SymbolicExpression.Evaluate(KernelCatalog.ScratchBuffers[value], SampleSymbols) > 0, value);
                    break;
                default:
                    Assert.Fail($"unknown binding {parameter.Binding}");
                    break;
            }
        }

        Assert.Equal(3, entry.Grid.Count);
        Assert.All(entry.Grid, g => Assert.True(SymbolicExpression.Evaluate(g, SampleSymbols) > 0, g));
        Assert.True(SymbolicExpression.Evaluate(entry.SharedBytes, SampleSymbols) >= 0);
        Assert.True(entry.BlockSize is > 0 and <= 1024 && entry.BlockSize % 32 == 0);
    }

    private static string ReadTemplate(string file)
    {
        using Stream? stream = Core.GetManifestResourceStream("ShadowKV.Cuda." + file);
        Assert.True(stream is not null, $"{file} is not embedded as ShadowKV.Cuda.{file}");
        using var reader = new StreamReader(stream);
        return StripComments(reader.ReadToEnd());
    }

    // The parameter list between SKV_KERNEL( and its matching parenthesis, split at top-level commas.
    private static string[] KernelParameters(string source)
    {
        int open = source.IndexOf('(', source.IndexOf("SKV_KERNEL", StringComparison.Ordinal));
        int depth = 0, close = open;
        for (; close < source.Length; close++)
        {
            depth += source[close] switch { '(' => 1, ')' => -1, _ => 0 };
            if (depth == 0)
            {
                break;
            }
        }

        return SplitTopLevel(source[(open + 1)..close]);
    }

    private static string[] SplitTopLevel(string list) =>
        list.Trim().Length == 0 ? [] : list.Split(',').Select(Normalize).ToArray();

    private static string Normalize(string declaration) => Whitespace().Replace(declaration, " ").Trim();

    private static string StripComments(string source) => LineComment().Replace(source, "");

    [GeneratedRegex(@"template\s*<([^>]*)>\s*__global__")]
    private static partial Regex TemplateHeader();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    [GeneratedRegex(@"//[^\n]*")]
    private static partial Regex LineComment();
}
