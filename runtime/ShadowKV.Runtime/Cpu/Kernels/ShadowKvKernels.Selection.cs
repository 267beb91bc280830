using System;
using System.Numerics.Tensors;

namespace ShadowKV.Runtime.Cpu.Kernels;

// Layout (one sequence, one layer, one decode step): q [Hq·d] post-RoPE (head h in columns h·d … h·d + d − 1);
// landmarks [Hkv, nL, d] with chunk ids [Hkv, nL] ascending; scores [Hkv, nL]; selections [Hkv, k] of chunk
// ids, ascending. GQA: query heads h·G … h·G + G − 1 share KV head h.

public static partial class ShadowKvKernels
{
    /// <summary>
    /// score[h, j] = max over the G query heads of KV head h of softmax_j(q · m_j / √d). q [Hq·d];
    /// landmarks [Hkv, nL, d]; scores [Hkv, nL].
    /// </summary>
    public static void LandmarkScores(ReadOnlySpan<float> q, ReadOnlySpan<float> landmarks, int hq, int hkv, int d, int nL, Span<float> scores)
    {
        int g = CpuKernels.GroupSize(hq, hkv);
        CpuKernelsShapes.Require(q.Length >= hq * d, nameof(q), $"[{hq}·{d}]");
        CpuKernelsShapes.Require(landmarks.Length >= (long)hkv * nL * d, nameof(landmarks), $"[{hkv}, {nL}, {d}]");
        CpuKernelsShapes.Require(scores.Length >= hkv * nL, nameof(scores), $"[{hkv}, {nL}]");
        float scale = CpuKernels.AttentionScale(d);
        var probabilities = new float[nL];
        for (int h = 0; h < hkv; h++)
        {
            Span<float> best = scores.Slice(h * nL, nL);
            best.Fill(float.NegativeInfinity);
            for (int member = 0; member < g; member++)
            {
                ReadOnlySpan<float> qh = q.Slice((h * g + member) * d, d);
                for (int j = 0; j < nL; j++)
                {
                    probabilities[j] = TensorPrimitives.Dot(qh, landmarks.Slice((h * nL + j) * d, d)) * scale;
                }

                CpuKernels.Softmax(probabilities);
                TensorPrimitives.Max(best, probabilities, best);
            }
        }
    }

    /// <summary>
    /// The k best landmarks per KV head (k clamped to nL; returned). Equal scores prefer the lower landmark index;
    /// NaN ranks last. scores [Hkv, nL]; landmarkChunkIds [Hkv, nL]; selected [Hkv, k] chunk ids, ascending.
    /// </summary>
    public static int TopKChunks(ReadOnlySpan<float> scores, ReadOnlySpan<int> landmarkChunkIds, int hkv, int nL, int k, Span<int> selected)
    {
        if (k < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(k), $"Top-k needs k ≥ 0 (got {k}).");
        }

        k = Math.Min(k, nL);
        CpuKernelsShapes.Require(selected.Length >= hkv * k, nameof(selected), $"[{hkv}, {k}]");
        var order = new int[nL];
        var keys = new float[nL];
        for (int h = 0; h < hkv; h++)
        {
            for (int j = 0; j < nL; j++)
            {
                float s = scores[h * nL + j];
                keys[j] = float.IsNaN(s) ? float.NegativeInfinity : s;
                order[j] = j;
            }

            Array.Sort(order, (x, y) => keys[x] != keys[y] ? keys[y].CompareTo(keys[x]) : x.CompareTo(y));
            Span<int> chosen = selected.Slice(h * k, k);
            for (int i = 0; i < k; i++)
            {
                chosen[i] = landmarkChunkIds[h * nL + order[i]];
            }

            chosen.Sort();
        }

        return k;
    }

    /// <summary>
    /// Per KV head, which chunks of the new selection were already in the previous one (hits: keep their
    /// rebuilt keys and fetched values) and which were not (misses: rebuild and fetch). previous [Hkv, kPrevious]
    /// and current [Hkv, k], both ascending (previous may hold −1 for empty slots). hits and misses [Hkv, k],
    /// filled from the front with hitCounts[h] and missCounts[h] entries, ascending. Returns the total hits.
    /// </summary>
    public static int SelectionDiff(ReadOnlySpan<int> previous, int kPrevious, ReadOnlySpan<int> current, int k, int hkv,
        Span<int> hits, Span<int> misses, Span<int> hitCounts, Span<int> missCounts)
    {
        CpuKernelsShapes.Require(previous.Length >= hkv * kPrevious, nameof(previous), $"[{hkv}, {kPrevious}]");
        CpuKernelsShapes.Require(current.Length >= hkv * k, nameof(current), $"[{hkv}, {k}]");
        CpuKernelsShapes.Require(hits.Length >= hkv * k && misses.Length >= hkv * k, nameof(hits), $"[{hkv}, {k}]");
        CpuKernelsShapes.Require(hitCounts.Length >= hkv && missCounts.Length >= hkv, nameof(hitCounts), $"[{hkv}]");
        int total = 0;
        for (int h = 0; h < hkv; h++)
        {
            ReadOnlySpan<int> before = previous.Slice(h * kPrevious, kPrevious);
            ReadOnlySpan<int> now = current.Slice(h * k, k);
            int p = 0, hit = 0, miss = 0;
            foreach (int id in now)
            {
                // Both lists ascending: one merge pass.
                while (p < before.Length && before[p] < id)
                {
                    p++;
                }

                if (p < before.Length && before[p] == id)
                {
                    hits[h * k + hit++] = id;
                }
                else
                {
                    misses[h * k + miss++] = id;
                }
            }

            hitCounts[h] = hit;
            missCounts[h] = miss;
            total += hit;
        }

        return total;
    }
}
