using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace ShadowKV.Runtime.Engine.Checkpoints;

/// <summary>
/// A tensor inside a mapped safetensors file. <see cref="Bytes"/> is the raw little-endian data; the conversions
/// produce float32 (CPU backend) or bfloat16 bits (GPU upload) from F32, F16 or BF16 storage.
/// </summary>
public sealed class CheckpointTensor
{
    private readonly SafetensorsFile _file;
    private readonly SafetensorsEntry _entry;

    internal CheckpointTensor(SafetensorsFile file, SafetensorsEntry entry)
    {
        _file = file;
        _entry = entry;
    }

    public string Name => _entry.Name;

    public SafetensorsDType DType => _entry.DType;

    public IReadOnlyList<long> Shape => _entry.Shape;

    public long ElementCount => _entry.ElementCount;

    /// <summary>Path of the file holding the data.</summary>
    public string FilePath => _file.Path;

    /// <summary>The stored bytes, valid while the owning file is open.</summary>
    public ReadOnlySpan<byte> Bytes => _file.Slice(_entry.FileOffset, _entry.ByteLength);

    /// <summary>A new float32 copy of the tensor.</summary>
    public float[] ToFloat32()
    {
        var result = new float[CheckedCount()];
        CopyToFloat32(result);
        return result;
    }

    /// <summary>Converts into <paramref name="destination"/>, which must hold exactly <see cref="ElementCount"/> values.</summary>
    public void CopyToFloat32(Span<float> destination)
    {
        CheckDestination(destination.Length);
        ReadOnlySpan<byte> bytes = Bytes;
        switch (DType)
        {
            case SafetensorsDType.F32:
                MemoryMarshal.Cast<byte, float>(bytes).CopyTo(destination);
                break;
            case SafetensorsDType.F16:
                FloatConversions.HalfToSingle(MemoryMarshal.Cast<byte, Half>(bytes), destination);
                break;
            case SafetensorsDType.BF16:
                FloatConversions.BFloat16ToSingle(MemoryMarshal.Cast<byte, ushort>(bytes), destination);
                break;
            default:
                throw Unconvertible();
        }
    }

    /// <summary>A new bfloat16 (bit pattern) copy, rounding to nearest even from F32/F16.</summary>
    public ushort[] ToBFloat16()
    {
        var result = new ushort[CheckedCount()];
        CopyToBFloat16(result);
        return result;
    }

    /// <summary>Converts into <paramref name="destination"/> as bfloat16 bit patterns.</summary>
    public void CopyToBFloat16(Span<ushort> destination)
    {
        CheckDestination(destination.Length);
        ReadOnlySpan<byte> bytes = Bytes;
        switch (DType)
        {
            case SafetensorsDType.BF16:
                MemoryMarshal.Cast<byte, ushort>(bytes).CopyTo(destination);
                break;
            case SafetensorsDType.F32:
                FloatConversions.SingleToBFloat16(MemoryMarshal.Cast<byte, float>(bytes), destination);
                break;
            case SafetensorsDType.F16:
                // f16 → f32 is exact, so rounding once from f32 gives the correctly rounded bf16.
                float[] wide = ToFloat32();
                FloatConversions.SingleToBFloat16(wide, destination);
                break;
            default:
                throw Unconvertible();
        }
    }

    public override string ToString() => $"{Name} {DType}[{string.Join(", ", Shape)}]";

    private int CheckedCount() =>
        ElementCount <= Array.MaxLength
            ? (int)ElementCount
            : throw new CheckpointException(FilePath, Name, $"{ElementCount} elements do not fit one .NET array.");

    private void CheckDestination(int length)
    {
        if (length != ElementCount)
        {
            throw new ArgumentException($"Tensor '{Name}' has {ElementCount} elements; the destination holds {length}.");
        }
    }

    private CheckpointException Unconvertible() =>
        new(FilePath, Name, $"dtype {DType} cannot be converted to model weights; only F32, F16 and BF16 can.");
}
