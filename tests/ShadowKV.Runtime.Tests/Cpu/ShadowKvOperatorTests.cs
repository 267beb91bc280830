using System;
using ShadowKV.Runtime.Cpu.Kernels;

namespace ShadowKV.Runtime.Tests.Cpu;

// Layout: post-RoPE keys [Hkv, capacity, d]; landmarks [Hkv, nL, d]; selections [Hkv, k] chunk ids ascending.
public sealed class ShadowKvOperatorTests
{
    [Theory]
    [InlineData(77, 8, 4, 2, 5, 2, 37)]   // odd S: ⌊77/8⌋ − 4 = 5 chunks, tail = 32 local + 5 leftovers
    [InlineData(20, 8, 4, 2, 0, 0, 20)]   // S shorter than the local window: everything exact
    [InlineData(5, 8, 0, 1, 0, 0, 5)]     // S shorter than one chunk
    [InlineData(64, 8, 1, 48, 7, 7, 8)]   // o clamped to n_c
    public void ChunkLayoutFollowsTheDefinition(int S, int c, int nloc, int o, int chunks, int outliers, int tail)
    {
        ChunkLayout layout = ChunkLayout.Plan(S, c, nloc, o);
        Assert.Equal(chunks, layout.Chunks);
        Assert.Equal(outliers, layout.Outliers);
        Assert.Equal(tail, layout.TailLength);
        Assert.Equal(chunks - outliers, layout.Landmarks);
    }

    [Fact]
    public void LandmarksAreChunkMeansAndTheScatteredChunkIsTheOutlier()
    {
        const int hkv = 2, d = 4, c = 4, S = 21, capacity = 32;
        ChunkLayout layout = ChunkLayout.Plan(S, c, 1, 1); // 4 chunks, tail 5 tokens
        float[] keys = TestData.Normal(40, hkv * capacity * d);
        // Chunks of nearly parallel keys, except chunk 2 of head 0 and chunk 1 of head 1, where one key is flipped.
        for (int h = 0; h < hkv; h++)
        {
            for (int t = 0; t < S; t++)
            {
                for (int i = 0; i < d; i++)
                {
                    keys[(h * capacity + t) * d + i] = 1f + i + 0.01f * keys[(h * capacity + t) * d + i];
                }
            }
        }

        for (int i = 0; i < d; i++)
        {
            keys[(0 * capacity + 2 * c + 1) * d + i] *= -1;
            keys[(1 * capacity + 1 * c + 3) * d + i] *= -1;
        }

        int[] outliers = new int[hkv * layout.Outliers], ids = new int[hkv * layout.Landmarks];
        float[] landmarks = new float[hkv * layout.Landmarks * d];
        ShadowKvKernels.Landmarks(keys, hkv, capacity, d, layout, outliers, landmarks, ids);
        Assert.Equal([2, 1], outliers);
        Assert.Equal([0, 1, 3, 0, 2, 3], ids);
        for (int i = 0; i < d; i++)
        {
            // Head 1, landmark 1 is chunk 2: the mean of tokens 8 … 11.
            double mean = 0;
            for (int t = 8; t < 12; t++)
            {
                mean += keys[(1 * capacity + t) * d + i] / 4.0;
            }

            Assert.Equal(mean, landmarks[(1 * layout.Landmarks + 1) * d + i], 1e-5);
        }
    }

    [Fact]
    public void EqualOutlierScoresPickTheLowerChunks()
    {
        const int d = 2, c = 2, S = 12;
        var keys = new float[S * d];
        for (int t = 0; t < S; t++)
        {
            keys[t * d] = t % 2 == 0 ? 1 : 0; // every chunk is the same pair of orthogonal keys
            keys[t * d + 1] = t % 2 == 0 ? 0 : 1;
        }

        ChunkLayout layout = ChunkLayout.Plan(S, c, 0, 2);
        int[] outliers = new int[2], ids = new int[4];
        ShadowKvKernels.Landmarks(keys, 1, S, d, layout, outliers, new float[4 * d], ids);
        Assert.Equal([0, 1], outliers);
        Assert.Equal([2, 3, 4, 5], ids);
    }

    [Fact]
    public void LandmarkScoresTakeTheMaxSoftmaxOverTheGroup()
    {
        const int hq = 4, hkv = 2, d = 8, nL = 5;
        float[] q = TestData.Normal(41, hq * d), landmarks = TestData.Normal(42, hkv * nL * d);
        var scores = new float[hkv * nL];
        ShadowKvKernels.LandmarkScores(q, landmarks, hq, hkv, d, nL, scores);
        for (int h = 0; h < hkv; h++)
        {
            var best = new double[nL];
            for (int member = 0; member < 2; member++)
            {
                var logits = new double[nL];
                double total = 0;
                for (int j = 0; j < nL; j++)
                {
                    for (int i = 0; i < d; i++)
                    {
                        logits[j] += (double)q[(h * 2 + member) * d + i] * landmarks[(h * nL + j) * d + i] / Math.Sqrt(d);
                    }

                    total += Math.Exp(logits[j]);
                }

                for (int j = 0; j < nL; j++)
                {
                    best[j] = Math.Max(best[j], Math.Exp(logits[j]) / total);
                }
            }

            for (int j = 0; j < nL; j++)
            {
                Assert.Equal(best[j], scores[h * nL + j], 1e-6);
            }
        }
    }

    [Fact]
    public void TopKChunksBreaksTiesTowardLowerIndicesAndSortsIds()
    {
        float[] scores = [0.1f, 0.5f, 0.5f, 0.9f, float.NaN, /* head 1 */ 0.3f, 0.3f, 0.3f, 0.3f, 0.3f];
        int[] ids = [3, 6, 7, 9, 12, /* head 1 */ 0, 1, 2, 4, 5];
        var selected = new int[2 * 3];
        Assert.Equal(3, ShadowKvKernels.TopKChunks(scores, ids, 2, 5, 3, selected));
        Assert.Equal([6, 7, 9, 0, 1, 2], selected);
        var all = new int[2 * 5];
        Assert.Equal(5, ShadowKvKernels.TopKChunks(scores, ids, 2, 5, 99, all)); // k clamped to nL
        Assert.Equal(ids, all);
    }

    [Fact]
    public void SelectionDiffListsHitsAndMissesPerHead()
    {
        int[] previous = [1, 4, 7, -1, 2, 3], current = [0, 4, 7, 2, 3, 9];
        int[] hits = new int[6], misses = new int[6], hitCounts = new int[2], missCounts = new int[2];
        Assert.Equal(4, ShadowKvKernels.SelectionDiff(previous, 3, current, 3, 2, hits, misses, hitCounts, missCounts));
        Assert.Equal([2, 2], hitCounts);
        Assert.Equal([1, 1], missCounts);
        Assert.Equal([4, 7], hits.AsSpan(0, 2).ToArray());
        Assert.Equal([2, 3], hits.AsSpan(3, 2).ToArray());
        Assert.Equal(0, misses[0]);
        Assert.Equal(9, misses[3]);
    }

    [Fact]
    public void RebuiltKeysAtFullRankEqualTheRopedKeys()
    {
        const int S = 24, hkv = 2, d = 8, c = 4, D = hkv * d;
        float[] kPre = TestData.Normal(43, S * D), invFreq = TestData.InvFreq(d);
        float[] a = new float[S * D], b = new float[D * D];
        ShadowKvKernels.LowRankKeys(kPre, S, D, D, a, b);
        int[] chunkIds = [1, 5, 0, 3]; // [Hkv = 2, k = 2]
        var rebuilt = new float[hkv * 2 * c * d];
        ShadowKvKernels.RebuildKeys(a, b, D, hkv, d, c, chunkIds, 2, invFreq, rebuilt);

        float[] kPost = (float[])kPre.Clone();
        var positions = new int[S];
        for (int t = 0; t < S; t++)
        {
            positions[t] = t;
        }

        CpuKernels.Rope(kPost, hkv, d, positions, invFreq);
        for (int h = 0; h < hkv; h++)
        {
            for (int i = 0; i < 2; i++)
            {
                for (int row = 0; row < c; row++)
                {
                    int t = chunkIds[h * 2 + i] * c + row;
                    ReadOnlySpan<float> expected = kPost.AsSpan(t * D + h * d, d);
                    ReadOnlySpan<float> actual = rebuilt.AsSpan(((h * 2 + i) * c + row) * d, d);
                    Assert.True(TestData.RelativeError(actual, expected) < 1e-5, $"head {h}, token {t}");
                }
            }
        }
    }
}
