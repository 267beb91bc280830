using System;
using ShadowKV.Runtime.Cpu.Kernels;

namespace ShadowKV.Runtime.Tests.Cpu;

// Layout: token-major kPre, kPost, v [S + g, Hkv·d]; the full cache K, V [Hkv, capacity, d] with capacity > S + g;
// ShadowKV's exact region [Hkv, exactCapacity, d] = [local tail | outlier chunks | generated tokens] and the
// selected region [Hkv, k·c, d] (rebuilt keys, gathered values).
public sealed class ShadowKvDecodeTests(ITestOutputHelper output)
{
    private sealed record Scenario(int Hq, int Hkv, int d, int S, int Generated, int c, int LocalChunks, int Outliers, int Budget, int Rank);

    // Runs the whole ShadowKV decode path for one query and, for comparison, full decode attention over the
    // same S + g tokens. keyBasis > 0 makes keys low-rank plus noise and the query attend to a few tokens.
    private static (float[] Full, float[] Sparse, int SelectedChunks) Run(Scenario s, int seed, int keyBasis = 0)
    {
        int D = s.Hkv * s.d, length = s.S + s.Generated, capacity = length + 5;
        float[] kPre = keyBasis > 0 ? LowRankKeys(seed, length, D, keyBasis) : TestData.Normal(seed, length * D);
        float[] v = TestData.Normal(seed + 1, length * D), invFreq = TestData.InvFreq(s.d);
        var positions = new int[length];
        for (int t = 0; t < length; t++)
        {
            positions[t] = t;
        }

        float[] kPost = (float[])kPre.Clone();
        CpuKernels.Rope(kPost, s.Hkv, s.d, positions, invFreq);
        float[] q = keyBasis > 0 ? QueryNear(kPost, s, seed) : TestData.Normal(seed + 2, s.Hq * s.d);
        float[] kCache = TestData.Normal(seed + 3, s.Hkv * capacity * s.d), vCache = TestData.Normal(seed + 4, s.Hkv * capacity * s.d);
        CpuKernels.KvAppend(kPost, v, s.Hkv, s.d, positions, kCache, vCache, capacity);
        var full = new float[s.Hq * s.d];
        CpuKernels.DecodeAttention(q, kCache, vCache, capacity, length, s.Hq, s.Hkv, s.d, full);

        // Prefill side outputs: factors of the prompt's pre-RoPE keys, landmarks and outliers from the cache.
        int r = ShadowKvKernels.EffectiveRank(s.S, D, s.Rank);
        float[] a = new float[s.S * r], b = new float[r * D];
        ShadowKvKernels.LowRankKeys(kPre, s.S, D, s.Rank, a, b);
        ChunkLayout layout = ChunkLayout.Plan(s.S, s.c, s.LocalChunks, s.Outliers);
        int o = layout.Outliers, nL = layout.Landmarks;
        int[] outliers = new int[s.Hkv * o], landmarkIds = new int[s.Hkv * nL];
        float[] landmarks = new float[s.Hkv * nL * s.d];
        ShadowKvKernels.Landmarks(kCache, s.Hkv, capacity, s.d, layout, outliers, landmarks, landmarkIds);

        // Exact region: tail rows, then outlier chunks, then the generated tokens.
        int exactCount = layout.TailLength + o * s.c + s.Generated, exactCapacity = exactCount + 3;
        float[] exactK = new float[s.Hkv * exactCapacity * s.d], exactV = new float[exactK.Length];
        for (int h = 0; h < s.Hkv; h++)
        {
            CopyRows(kCache, vCache, capacity, exactK, exactV, exactCapacity, h, s.d, layout.TailStart, layout.TailLength, 0);
            CopyRows(kCache, vCache, capacity, exactK, exactV, exactCapacity, h, s.d, s.S, s.Generated, layout.TailLength + o * s.c);
        }

        ShadowKvKernels.GatherChunks(kCache, capacity, s.Hkv, s.d, s.c, outliers, o, exactK, exactCapacity, layout.TailLength);
        ShadowKvKernels.GatherChunks(vCache, capacity, s.Hkv, s.d, s.c, outliers, o, exactV, exactCapacity, layout.TailLength);

        // Decode: score landmarks, pick the budget, rebuild keys and fetch values, attend.
        var scores = new float[s.Hkv * nL];
        ShadowKvKernels.LandmarkScores(q, landmarks, s.Hq, s.Hkv, s.d, nL, scores);
        var selected = new int[s.Hkv * Math.Min(s.Budget, nL)];
        int k = ShadowKvKernels.TopKChunks(scores, landmarkIds, s.Hkv, nL, s.Budget, selected);
        float[] selectedK = new float[s.Hkv * k * s.c * s.d], selectedV = new float[selectedK.Length];
        ShadowKvKernels.RebuildKeys(a, b, r, s.Hkv, s.d, s.c, selected, k, invFreq, selectedK);
        ShadowKvKernels.GatherChunks(vCache, capacity, s.Hkv, s.d, s.c, selected, k, selectedV, k * s.c);
        var sparse = new float[s.Hq * s.d];
        ShadowKvKernels.SparseAttention(q, s.Hq, s.Hkv, s.d, exactK, exactV, exactCapacity, exactCount, selectedK, selectedV, k * s.c, sparse);
        return (full, sparse, k);
    }

    private static void CopyRows(float[] kCache, float[] vCache, int capacity, float[] exactK, float[] exactV, int exactCapacity,
        int h, int d, int from, int count, int to)
    {
        Array.Copy(kCache, (h * capacity + from) * d, exactK, (h * exactCapacity + to) * d, count * d);
        Array.Copy(vCache, (h * capacity + from) * d, exactV, (h * exactCapacity + to) * d, count * d);
    }

    // Keys in a random basis of `basis` directions plus 5% noise (the low-rank structure ShadowKV relies on),
    // with coefficients that drift slowly over tokens (neighbouring keys are alike, as in real text), so a
    // chunk's mean represents its keys.
    private static float[] LowRankKeys(int seed, int length, int D, int basis)
    {
        const int Span = 8;
        float[] segments = TestData.Normal(seed, (length / Span + 1) * basis), jitter = TestData.Normal(seed + 6, length * basis, 0.2f);
        float[] directions = TestData.Normal(seed + 7, basis * D), keys = TestData.Normal(seed + 8, length * D, 0.05f);
        for (int t = 0; t < length; t++)
        {
            for (int l = 0; l < basis; l++)
            {
                float coefficient = (segments[t / Span * basis + l] + jitter[t * basis + l]) / MathF.Sqrt(basis);
                for (int i = 0; i < D; i++)
                {
                    keys[t * D + i] += coefficient * directions[l * D + i];
                }
            }
        }

        return keys;
    }

    // A query aligned with the post-RoPE keys of a few prompt tokens, so attention is peaked as in real models.
    private static float[] QueryNear(float[] kPost, Scenario s, int seed)
    {
        int D = s.Hkv * s.d;
        var q = new float[s.Hq * s.d];
        var random = new Random(seed);
        for (int h = 0; h < s.Hq; h++)
        {
            int kv = h / (s.Hq / s.Hkv), token = random.Next(s.S);
            for (int i = 0; i < s.d; i++)
            {
                q[h * s.d + i] = 3f * kPost[token * D + kv * s.d + i];
            }
        }

        return q;
    }

    [Theory]
    [InlineData(8, 2, 64, 77)]    // GQA G = 4, odd S (not a multiple of c)
    [InlineData(8, 2, 128, 77)]
    [InlineData(4, 4, 64, 77)]    // MHA
    [InlineData(4, 4, 128, 77)]
    [InlineData(8, 2, 64, 5)]     // S shorter than a chunk
    [InlineData(8, 2, 128, 29)]   // S shorter than the local window (4 chunks of 8)
    [InlineData(4, 4, 64, 200)]   // many chunks, several outliers
    public void FullBudgetAndFullRankEqualFullAttention(int hq, int hkv, int d, int S)
    {
        // Budget k = n_c − o covers every landmark, rank r = D makes A·B = K up to float error.
        ChunkLayout layout = ChunkLayout.Plan(S, 8, 4, 2);
        var scenario = new Scenario(hq, hkv, d, S, Generated: 3, c: 8, LocalChunks: 4, Outliers: 2, Budget: layout.Landmarks, Rank: hkv * d);
        (float[] full, float[] sparse, int k) = Run(scenario, seed: S + d);
        Assert.Equal(layout.Landmarks, k);
        double error = TestData.RelativeError(sparse, full);
        output.WriteLine($"Hq={hq} Hkv={hkv} d={d} S={S}: relative error {error:E2}");
        Assert.True(error < 1e-4, $"relative error {error}");
    }

    [Fact]
    public void SmallBudgetStaysCloseToFullAttention()
    {
        // 1024-token prompt, 8 of 122 landmark chunks per KV head (≈ 6% of the context) and rank r = D/4.
        var scenario = new Scenario(Hq: 8, Hkv: 2, d: 64, S: 1024, Generated: 4, c: 8, LocalChunks: 4, Outliers: 2, Budget: 8, Rank: 32);
        (float[] full, float[] sparse, int k) = Run(scenario, seed: 50, keyBasis: 12);
        Assert.Equal(8, k);
        double cosine = TestData.Cosine(sparse, full);
        output.WriteLine($"ShadowKV (k = 8 chunks, r = 32) vs full attention: cosine similarity {cosine:F5}");
        Assert.True(cosine > 0.95, $"cosine {cosine}");
    }
}
