using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Text.Json;
using System.Text.Unicode;

namespace ShadowKV.Runtime.Engine.Checkpoints;

/// <summary>One tensor entry of a safetensors header: offsets are absolute positions in the file.</summary>
public sealed record SafetensorsEntry(string Name, SafetensorsDType DType, IReadOnlyList<long> Shape, long FileOffset, long ByteLength)
{
    /// <summary>Product of <see cref="Shape"/> (1 for a scalar).</summary>
    public long ElementCount => ByteLength / SafetensorsDTypes.SizeOf(DType);
}

// The header is untrusted input (downloaded files, truncated copies), so parsing is a pure function over bytes
// that either returns fully checked entries or throws CheckpointException; the fuzz tests hold it to that.
internal static class SafetensorsHeader
{
    public const int PrefixBytes = 8;

    // transformers' safetensors refuses headers over 100 MB too; a bigger one means a corrupt length prefix.
    public const long MaxHeaderBytes = 100L * 1024 * 1024;

    /// <summary>Reads the header length from the 8-byte prefix and checks it against the file length.</summary>
    public static int ReadHeaderLength(ReadOnlySpan<byte> prefix, long fileLength, string path)
    {
        if (fileLength < PrefixBytes || prefix.Length < PrefixBytes)
        {
            throw new CheckpointException(path, null, $"file is {fileLength} bytes, shorter than the 8-byte safetensors header length; the file is truncated or not safetensors.");
        }

        ulong length = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (length > MaxHeaderBytes)
        {
            throw new CheckpointException(path, null, $"header length {length} exceeds the 100 MB limit; the file is corrupt or not safetensors.");
        }

        if ((long)length > fileLength - PrefixBytes)
        {
            throw new CheckpointException(path, null, $"header length {length} runs past the end of the {fileLength}-byte file; the file is truncated.");
        }

        return (int)length;
    }

    /// <summary>Parses the JSON header; <paramref name="fileLength"/> bounds every tensor's data.</summary>
    public static IReadOnlyList<SafetensorsEntry> Parse(ReadOnlySpan<byte> headerJson, long fileLength, string path)
    {
        long dataStart = PrefixBytes + headerJson.Length;
        long dataLength = fileLength - dataStart;
        if (!Utf8.IsValid(headerJson))
        {
            throw new CheckpointException(path, null, "header is not valid UTF-8; the file is corrupt or not safetensors.");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(headerJson.ToArray());
        }
        catch (JsonException e)
        {
            throw new CheckpointException(path, null, $"header is not valid JSON ({e.Message}).", e);
        }

        using (document)
        {
            try
            {
                return ParseEntries(document.RootElement, dataStart, dataLength, path);
            }
            catch (InvalidOperationException e)
            {
                // Escaped lone surrogates ("\ud800") are valid JSON but not valid text; reading the string throws.
                throw new CheckpointException(path, null, $"header holds a string that is not valid Unicode ({e.Message}).", e);
            }
        }
    }

    private static List<SafetensorsEntry> ParseEntries(JsonElement root, long dataStart, long dataLength, string path)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new CheckpointException(path, null, $"header is a JSON {root.ValueKind}, expected an object of tensors.");
        }

        var entries = new List<SafetensorsEntry>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (JsonProperty property in root.EnumerateObject())
        {
            if (property.Name == "__metadata__")
            {
                continue;
            }

            if (!names.Add(property.Name))
            {
                throw new CheckpointException(path, property.Name, "appears twice in the header.");
            }

            SafetensorsEntry entry = ParseEntry(property, dataStart, dataLength, path);
            entries.Add(entry);
        }

        CheckNoOverlap(entries, path);
        return entries;
    }

    private static SafetensorsEntry ParseEntry(JsonProperty property, long dataStart, long dataLength, string path)
    {
        string name = property.Name;
        JsonElement value = property.Value;
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new CheckpointException(path, name, $"entry is a JSON {value.ValueKind}, expected {{dtype, shape, data_offsets}}.");
        }

        if (!value.TryGetProperty("dtype", out JsonElement dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
        {
            throw new CheckpointException(path, name, "entry has no string 'dtype'.");
        }

        string dtypeText = dtypeElement.GetString()!;
        if (!SafetensorsDTypes.TryParse(dtypeText, out SafetensorsDType dtype))
        {
            throw new CheckpointException(path, name, $"unknown dtype '{dtypeText}' (known: F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL).");
        }

        if (!value.TryGetProperty("shape", out JsonElement shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
        {
            throw new CheckpointException(path, name, "entry has no 'shape' array.");
        }

        var shape = new List<long>();
        long elements = 1;
        foreach (JsonElement dim in shapeElement.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out long size) || size < 0)
            {
                throw new CheckpointException(path, name, $"shape entry '{dim.GetRawText()}' is not a non-negative integer.");
            }

            shape.Add(size);
            elements = size == 0 || elements == 0 ? 0 : MultiplyOrThrow(elements, size, path, name);
        }

        long expectedBytes = MultiplyOrThrow(elements, SafetensorsDTypes.SizeOf(dtype), path, name);
        (long begin, long end) = ReadOffsets(value, path, name);
        if (begin > end)
        {
            throw new CheckpointException(path, name, $"data_offsets [{begin}, {end}] begin after they end.");
        }

        if (end > dataLength)
        {
            throw new CheckpointException(path, name, $"data_offsets end {end} is past the {dataLength} data bytes of the file; the file is truncated.");
        }

        if (end - begin != expectedBytes)
        {
            throw new CheckpointException(path, name,
                $"holds {end - begin} bytes but {dtypeText}[{string.Join(", ", shape)}] needs {expectedBytes}.");
        }

        return new SafetensorsEntry(name, dtype, shape, dataStart + begin, end - begin);
    }

    private static (long Begin, long End) ReadOffsets(JsonElement value, string path, string name)
    {
        if (!value.TryGetProperty("data_offsets", out JsonElement offsets) || offsets.ValueKind != JsonValueKind.Array
            || offsets.GetArrayLength() != 2)
        {
            throw new CheckpointException(path, name, "entry has no 'data_offsets' pair [begin, end].");
        }

        JsonElement first = offsets[0];
        JsonElement second = offsets[1];
        if (first.ValueKind != JsonValueKind.Number || !first.TryGetInt64(out long begin) || begin < 0
            || second.ValueKind != JsonValueKind.Number || !second.TryGetInt64(out long end) || end < 0)
        {
            throw new CheckpointException(path, name, $"data_offsets {offsets.GetRawText()} are not non-negative integers.");
        }

        return (begin, end);
    }

    private static long MultiplyOrThrow(long a, long b, string path, string name)
    {
        long product;
        try
        {
            product = checked(a * b);
        }
        catch (OverflowException)
        {
            throw new CheckpointException(path, name, "shape's element count overflows 64 bits.");
        }

        return product;
    }

    private static void CheckNoOverlap(List<SafetensorsEntry> entries, string path)
    {
        // Empty tensors occupy no bytes and may share an offset with anything.
        var sorted = entries.FindAll(e => e.ByteLength > 0);
        sorted.Sort((a, b) => a.FileOffset.CompareTo(b.FileOffset));
        for (int i = 1; i < sorted.Count; i++)
        {
            SafetensorsEntry previous = sorted[i - 1];
            if (sorted[i].FileOffset < previous.FileOffset + previous.ByteLength)
            {
                throw new CheckpointException(path, sorted[i].Name, $"data overlaps tensor '{previous.Name}'.");
            }
        }
    }
}
