using System;
using System.Numerics.Tensors;

namespace ShadowKV.Runtime.Cpu.Kernels;

// Layout (one sequence, one layer): factors A [S, r], B [r, D] with D = Hkv·d; chunk ids [Hkv, k]; rebuilt keys
// and gathered values [Hkv, k·c, d] (chunk-major per head, rows in token order within a chunk). A chunk of one
// head is c·d contiguous floats both in the cache [Hkv, capacity, d] and in the host value store
// [Hkv, chunks, c·d], so one gather serves both. q and output [Hq·d]; exact region [Hkv, capacity, d].

public static unsafe partial class ShadowKvKernels
{
    /// <summary>
    /// Rebuilds the post-RoPE keys of the given chunks: for each row t of chunk j of KV head h,
    /// K_pre[t, h] = A[t, :]·B[:, h·d … h·d + d − 1], then RoPE at position t (HF float32 angles).
    /// a [S, r]; b [r, Hkv·d]; chunkIds [Hkv, k]; invFreq [d/2]; keys [Hkv, k·c, d].
    /// </summary>
    public static void RebuildKeys(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int r, int hkv, int d, int c,
        ReadOnlySpan<int> chunkIds, int k, ReadOnlySpan<float> invFreq, Span<float> keys, float attentionScaling = 1f)
    {
        int width = hkv * d;
        int S = a.Length / Math.Max(r, 1);
        CpuKernelsShapes.Require(b.Length >= (long)r * width, nameof(b), $"[{r}, {width}]");
        CpuKernelsShapes.Require(chunkIds.Length >= hkv * k, nameof(chunkIds), $"[{hkv}, {k}]");
        CpuKernelsShapes.Require(keys.Length >= (long)hkv * k * c * d, nameof(keys), $"[{hkv}, {k}·{c}, {d}]");
        Span<float> cos = stackalloc float[d / 2];
        Span<float> sin = stackalloc float[d / 2];
        for (int h = 0; h < hkv; h++)
        {
            for (int i = 0; i < k; i++)
            {
                int chunk = chunkIds[h * k + i];
                if (chunk < 0 || (chunk + 1) * c > S)
                {
                    throw new ArgumentOutOfRangeException(nameof(chunkIds), $"Chunk {chunk} of KV head {h} is outside the {S} factorised rows.");
                }

                for (int row = 0; row < c; row++)
                {
                    int t = chunk * c + row;
                    Span<float> key = keys.Slice(((h * k + i) * c + row) * d, d);
                    key.Clear();
                    ReadOnlySpan<float> coefficients = a.Slice(t * r, r);
                    for (int l = 0; l < r; l++)
                    {
                        TensorPrimitives.MultiplyAdd(b.Slice(l * width + h * d, d), coefficients[l], key, key);
                    }

                    CpuKernels.RopeAngles(t, invFreq, attentionScaling, cos, sin);
                    CpuKernels.RotateHalf(key, cos, sin);
                }
            }
        }
    }

    /// <summary>
    /// Copies whole chunks per KV head: destination[h, i·c + row, :] = source[h, chunkIds[h, i]·c + row, :].
    /// source [Hkv, sourceCapacity, d] (the cache, or the host value store with sourceCapacity = chunks·c);
    /// chunkIds [Hkv, k]; destination [Hkv, destinationCapacity, d] written from row destinationOffset on.
    /// Used for fetching selected values and for collecting the exact outlier keys and values.
    /// </summary>
    public static void GatherChunks(ReadOnlySpan<float> source, int sourceCapacity, int hkv, int d, int c,
        ReadOnlySpan<int> chunkIds, int k, Span<float> destination, int destinationCapacity, int destinationOffset = 0)
    {
        CpuKernelsShapes.Require(source.Length >= (long)hkv * sourceCapacity * d, nameof(source), $"[{hkv}, {sourceCapacity}, {d}]");
        CpuKernelsShapes.Require(destinationOffset + k * c <= destinationCapacity && destination.Length >= (long)hkv * destinationCapacity * d,
            nameof(destination), $"[{hkv}, {destinationCapacity} ≥ {destinationOffset} + {k}·{c}, {d}]");
        for (int h = 0; h < hkv; h++)
        {
            for (int i = 0; i < k; i++)
            {
                int chunk = chunkIds[h * k + i];
                if (chunk < 0 || (chunk + 1) * c > sourceCapacity)
                {
                    throw new ArgumentOutOfRangeException(nameof(chunkIds), $"Chunk {chunk} of KV head {h} is outside the source capacity {sourceCapacity}.");
                }

                source.Slice((h * sourceCapacity + chunk * c) * d, c * d)
                    .CopyTo(destination.Slice((h * destinationCapacity + destinationOffset + i * c) * d, c * d));
            }
        }
    }

    /// <summary>
    /// Exact attention of one decode query over, per KV head, the exact rows 0 … exactCount − 1 of
    /// [local tail | outlier chunks | generated tokens] followed by the selected rows (rebuilt keys, fetched
    /// values). Softmax does not depend on the order of keys, so the regions only need to be disjoint and
    /// complete. q, output [Hq·d]; exactK, exactV [Hkv, exactCapacity, d]; selectedK, selectedV [Hkv, selectedCount, d].
    /// </summary>
    public static void SparseAttention(ReadOnlySpan<float> q, int hq, int hkv, int d,
        ReadOnlySpan<float> exactK, ReadOnlySpan<float> exactV, int exactCapacity, int exactCount,
        ReadOnlySpan<float> selectedK, ReadOnlySpan<float> selectedV, int selectedCount, Span<float> output)
    {
        int g = CpuKernels.GroupSize(hq, hkv);
        CpuKernelsShapes.Require(q.Length >= hq * d && output.Length >= hq * d, nameof(q), $"[{hq}·{d}]");
        CpuKernelsShapes.Require(exactCount <= exactCapacity && exactK.Length >= (long)hkv * exactCapacity * d && exactV.Length >= (long)hkv * exactCapacity * d,
            nameof(exactK), $"[{hkv}, {exactCapacity} ≥ {exactCount}, {d}]");
        CpuKernelsShapes.Require(selectedK.Length >= (long)hkv * selectedCount * d && selectedV.Length >= (long)hkv * selectedCount * d,
            nameof(selectedK), $"[{hkv}, {selectedCount}, {d}]");
        if (exactCount + selectedCount == 0)
        {
            throw new ArgumentException("Sparse attention over no keys.", nameof(exactCount));
        }

        float scale = CpuKernels.AttentionScale(d);
        var scratch = new float[exactCount + selectedCount];
        fixed (float* pek = exactK, pev = exactV, psk = selectedK, psv = selectedV)
        {
            for (int h = 0; h < hq; h++)
            {
                int kv = h / g;
                long exact = (long)kv * exactCapacity * d, selected = (long)kv * selectedCount * d;
                CpuKernels.AttendOne(q.Slice(h * d, d), scale, pek + exact, pev + exact, exactCount,
                    psk + selected, psv + selected, selectedCount, d, scratch, output.Slice(h * d, d));
            }
        }
    }
}
