using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace ShadowKV.Compiler.Emit.CSharp;

/// <summary>C# literal forms for the generated plan: quoted strings, raw multi-line strings, arrays.</summary>
internal static class CSharpLiterals
{
    public static string String(string? value)
    {
        if (value is null)
        {
            return "null";
        }

        var text = new StringBuilder("\"");
        foreach (char c in value)
        {
            text.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when c < ' ' => "\\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture),
                _ => c.ToString(),
            });
        }

        return text.Append('"').ToString();
    }

    /// <summary>A raw string literal whose delimiter is longer than any run of quotes inside (at least three).</summary>
    public static string Raw(string value)
    {
        int longest = 0, run = 0;
        foreach (char c in value)
        {
            run = c == '"' ? run + 1 : 0;
            longest = System.Math.Max(longest, run);
        }

        string quotes = new('"', System.Math.Max(3, longest + 1));
        return quotes + "\n" + value.TrimEnd('\n') + "\n" + quotes;
    }

    public static string Strings(IEnumerable<string> values) => "new string[] { " + string.Join(", ", values.Select(String)) + " }";

    public static string Ints(IEnumerable<int> values) => "new int[] { " + string.Join(", ", values.Select(v => v.ToString(CultureInfo.InvariantCulture))) + " }";

    public static string Dictionary(IReadOnlyDictionary<string, string> values) =>
        "new global::System.Collections.Generic.Dictionary<string, string> { " +
        string.Join(", ", values.OrderBy(p => p.Key, System.StringComparer.Ordinal).Select(p => $"[{String(p.Key)}] = {String(p.Value)}")) + " }";
}
