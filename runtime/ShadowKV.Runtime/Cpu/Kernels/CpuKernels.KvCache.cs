using System;

namespace ShadowKV.Runtime.Cpu.Kernels;

// Layout: k, v [n, Hkv·d] token-major for n tokens of ONE sequence (a ragged batch is sliced per sequence by
// the caller); cache K and V of that sequence and layer [Hkv, capacity, d], the token at position p in row p.

public static partial class CpuKernels
{
    /// <summary>
    /// Writes the (post-RoPE) keys and values of n tokens into the cache rows given by their positions.
    /// k, v [n, Hkv·d]; positions [n]; kCache, vCache [Hkv, capacity, d]. A position outside the capacity
    /// throws instead of being dropped, so a too-small cache fails loudly.
    /// </summary>
    public static void KvAppend(ReadOnlySpan<float> k, ReadOnlySpan<float> v, int hkv, int d, ReadOnlySpan<int> positions,
        Span<float> kCache, Span<float> vCache, int capacity)
    {
        int width = hkv * d;
        RequireLength(k, (long)positions.Length * width, nameof(k));
        RequireLength(v, (long)positions.Length * width, nameof(v));
        RequireLength(kCache, (long)hkv * capacity * d, nameof(kCache));
        RequireLength(vCache, (long)hkv * capacity * d, nameof(vCache));
        for (int t = 0; t < positions.Length; t++)
        {
            int p = positions[t];
            if ((uint)p >= (uint)capacity)
            {
                throw new ArgumentOutOfRangeException(nameof(positions), $"Position {p} of token {t} is outside the cache capacity {capacity}.");
            }

            for (int h = 0; h < hkv; h++)
            {
                int row = (h * capacity + p) * d;
                k.Slice(t * width + h * d, d).CopyTo(kCache.Slice(row, d));
                v.Slice(t * width + h * d, d).CopyTo(vCache.Slice(row, d));
            }
        }
    }
}
