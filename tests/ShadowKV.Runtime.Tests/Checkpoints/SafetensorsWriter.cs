using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace ShadowKV.Runtime.Tests.Checkpoints;

// Builds small safetensors files for tests: tensors are laid out back to back in insertion order, as the reference
// writer does, and the header is space-padded to a multiple of 8.
internal sealed class SafetensorsWriter
{
    private readonly List<(string Name, string DType, long[] Shape, byte[] Data)> _tensors = new();

    public SafetensorsWriter Add(string name, string dtype, long[] shape, byte[] data)
    {
        _tensors.Add((name, dtype, shape, data));
        return this;
    }

    public SafetensorsWriter AddF32(string name, long[] shape, float[] values)
    {
        var bytes = new byte[values.Length * 4];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        return Add(name, "F32", shape, bytes);
    }

    public SafetensorsWriter AddZeros(string name, long[] shape, string dtype = "F32")
    {
        long count = shape.Aggregate(1L, (a, b) => a * b);
        int size = dtype switch { "F32" => 4, "F16" or "BF16" => 2, _ => 1 };
        return Add(name, dtype, shape, new byte[count * size]);
    }

    public string HeaderJson()
    {
        var json = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        long offset = 0;
        foreach (var (name, dtype, shape, data) in _tensors)
        {
            json.Append(CultureInfo.InvariantCulture,
                $",\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":[{string.Join(",", shape)}],\"data_offsets\":[{offset},{offset + data.Length}]}}");
            offset += data.Length;
        }

        return json.Append('}').ToString();
    }

    public byte[] ToBytes() => Compose(HeaderJson());

    /// <summary>A file with the tensors' data but an arbitrary header text (for malformed-header tests).</summary>
    public byte[] Compose(string header)
    {
        byte[] headerBytes = Encoding.UTF8.GetBytes(header);
        int padded = (headerBytes.Length + 7) / 8 * 8;
        var data = _tensors.SelectMany(t => t.Data).ToArray();
        var file = new byte[8 + padded + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)padded);
        headerBytes.CopyTo(file, 8);
        file.AsSpan(8 + headerBytes.Length, padded - headerBytes.Length).Fill((byte)' ');
        data.CopyTo(file, 8 + padded);
        return file;
    }

    public string WriteTo(string path)
    {
        File.WriteAllBytes(path, ToBytes());
        return path;
    }
}

/// <summary>A temporary directory removed on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "skv-io-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A still-mapped file on some platforms; the OS temp cleaner gets it.
        }
    }
}
