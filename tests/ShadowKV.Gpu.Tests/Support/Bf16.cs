using System;

namespace ShadowKV.Gpu.Tests.Support;

/// <summary>Host-side bf16 (the upper half of an IEEE float), rounding to nearest even like the GPU.</summary>
public static class Bf16
{
    public static ushort FromFloat(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        bits += 0x7FFFu + ((bits >> 16) & 1u);
        return (ushort)(bits >> 16);
    }

    public static float ToFloat(ushort value) => BitConverter.UInt32BitsToSingle((uint)value << 16);

    /// <summary>The value bf16 stores for <paramref name="value"/>.</summary>
    public static float Round(float value) => ToFloat(FromFloat(value));

    /// <summary>Deterministic values in [-1, 1), already exactly representable in bf16.</summary>
    public static ushort[] Random(int count, int seed)
    {
        var random = new Random(seed);
        var values = new ushort[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = FromFloat((float)(random.NextDouble() * 2 - 1));
        }

        return values;
    }
}
