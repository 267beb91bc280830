using System;
using System.Linq;
using ShadowKV.Compiler.Plans;

namespace ShadowKV.Compiler.Ir;

/// <summary>
/// Symbolic dimensions. A dim is a product of symbols and integers; its canonical form sorts the factors
/// (numbers first, then symbols in ordinal order) so <c>d*Hq</c> and <c>Hq*d</c> compare equal. Sums and other
/// expressions are kept as written.
/// </summary>
public static class Dims
{
    public static string Canonical(string dim)
    {
        string trimmed = dim.Replace(" ", string.Empty);
        if (trimmed.IndexOfAny(new[] { '+', '-', '/', '(' }) >= 0)
        {
            return trimmed;
        }

        string[] factors = trimmed.Split('*');
        var numbers = factors.Where(f => f.All(char.IsDigit)).Select(long.Parse).ToArray();
        var symbols = factors.Where(f => !f.All(char.IsDigit)).OrderBy(f => f, StringComparer.Ordinal).ToArray();
        long constant = numbers.Aggregate(1L, (a, b) => a * b);
        var parts = (constant != 1 || symbols.Length == 0 ? new[] { constant.ToString(System.Globalization.CultureInfo.InvariantCulture) } : Array.Empty<string>())
            .Concat(symbols);
        return string.Join("*", parts);
    }

    public static string Name(DataType type) => type switch
    {
        DataType.F32 => "f32",
        DataType.BF16 => "bf16",
        _ => "i32",
    };
}
