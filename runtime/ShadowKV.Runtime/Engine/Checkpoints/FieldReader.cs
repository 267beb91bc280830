using System;
using System.Collections.Generic;
using System.Text.Json;

namespace ShadowKV.Runtime.Engine.Checkpoints;

// Typed access to one JSON object's fields, throwing ModelConfigException with the field's full name on any mismatch.
internal readonly struct FieldReader(JsonElement obj, string source, string prefix = "")
{
    public long RequiredInt(string name) =>
        OptionalInt(name) ?? throw Missing(name);

    public double RequiredDouble(string name) =>
        OptionalDouble(name) ?? throw Missing(name);

    public long? OptionalInt(string name)
    {
        if (!TryGet(name, out JsonElement value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out long result))
        {
            throw Wrong(name, "an integer", value);
        }

        return result;
    }

    public double? OptionalDouble(string name)
    {
        if (!TryGet(name, out JsonElement value))
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out double result)
            ? result
            : throw Wrong(name, "a number", value);
    }

    public bool? OptionalBool(string name)
    {
        if (!TryGet(name, out JsonElement value))
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Wrong(name, "true or false", value),
        };
    }

    public string? OptionalString(string name)
    {
        if (!TryGet(name, out JsonElement value))
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String ? value.GetString() : throw Wrong(name, "a string", value);
    }

    public IReadOnlyList<string> StringList(string name)
    {
        if (!TryGet(name, out JsonElement value))
        {
            return Array.Empty<string>();
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            throw Wrong(name, "an array of strings", value);
        }

        var list = new List<string>();
        foreach (JsonElement item in value.EnumerateArray())
        {
            list.Add(item.ValueKind == JsonValueKind.String ? item.GetString()! : throw Wrong(name, "an array of strings", value));
        }

        return list;
    }

    public IReadOnlyList<int> IntOrIntList(string name)
    {
        if (!TryGet(name, out JsonElement value))
        {
            return Array.Empty<int>();
        }

        var list = new List<int>();
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int single))
        {
            list.Add(single);
            return list;
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            throw Wrong(name, "an integer or an array of integers", value);
        }

        foreach (JsonElement item in value.EnumerateArray())
        {
            list.Add(item.ValueKind == JsonValueKind.Number && item.TryGetInt32(out int id)
                ? id
                : throw Wrong(name, "an integer or an array of integers", value));
        }

        return list;
    }

    // A JSON null counts as absent: HF writes e.g. "head_dim": null or "rope_scaling": null for "use the default".
    private bool TryGet(string name, out JsonElement value) =>
        obj.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null;

    private ModelConfigException Missing(string name) =>
        new(source, prefix + name, "required but missing.");

    private ModelConfigException Wrong(string name, string expected, JsonElement found) =>
        new(source, prefix + name, $"expected {expected}, found {found.ValueKind} '{Shorten(found.GetRawText())}'.");

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";
}
