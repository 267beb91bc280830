using System;
using System.Collections.Generic;
using System.Linq;
using ShadowKV.Gpu.Tests.Support;
using ShadowKV.Runtime.Cpu.Kernels;
using ShadowKV.Runtime.Cuda;
using ShadowKV.Runtime.Engine.Checkpoints;
using LlamaCuda = ShadowKV.Models.Llama.Cuda;

namespace ShadowKV.Gpu.Tests.Kernels;

// Every ShadowKV decode kernel (as the generator wrote it into Llama's decode.shadowkv .cu) standalone against the CPU
// reference operators (ShadowKvKernels), on random inputs with ragged counts and −1 pads. Inputs the GPU reads as
// bf16 are generated as exact bf16 values, so both sides see the same numbers; each tolerance says which rounding it
// allows. Integer outputs (selections, slots, misses) and copies are compared exactly. Outputs a kernel must not
// write are checked to still hold the poison they were filled with.
public sealed class ShadowKVKernelTests(ITestOutputHelper output)
{
    private const string Decode = "llama_decode_shadowkv.cu";
    private const int C = 8; // chunk size c

    // Rounding an f32 result to bf16 (8 significant bits): ≤ 2⁻⁹ relative; a different f32 summation order can move
    // the value across a rounding boundary, so one bf16 ulp (2⁻⁸ ≈ 3.9e-3) relative is allowed.
    private const double Bf16Ulp = 1.0 / 256;

    // Poison for int outputs: −1 is a legitimate value (pads, empty slots), so int outputs start as this instead.
    private const int IntPoison = 0x7EEEEEEE;

    private static CudaKernel Kernel(string name) => KernelRig.Kernel(Decode, LlamaCuda.DecodeShadowKV, name);

    private static int CeilDiv(int a, int b) => (a + b - 1) / b;

    private static int[] Filled(int count, int value) => Enumerable.Repeat(value, count).ToArray();

    // ---- 1. landmark_scores + landmark_scores_finish ----------------------------------------------------------------

    [GpuTheory]
    [InlineData(64, 1)] [InlineData(64, 4)]
    [InlineData(128, 1)] [InlineData(128, 4)]
    public void Landmark_scores_match_the_max_over_the_group_of_the_softmax(int d, int g)
    {
        const int b = 2, hkv = 3, chunks = 600; // S/c = 600: three 256-landmark tiles
        int hq = hkv * g;
        // Ragged, odd counts per (sequence, KV head): across tile boundaries, one landmark, none, exactly one tile.
        int[] count = [513, 1, 0, 600, 37, 256];
        (ushort[] q, float[] qValues) = Compare.RandomBf16(b * hq * d, seed: 101, scale: 3f);
        (ushort[] lm, float[] lmValues) = Compare.RandomBf16(b * hkv * chunks * d, seed: 102);
        int tiles = CeilDiv(chunks, 256);
        using var rig = new KernelRig();
        DeviceBuffer dcount = rig.Upload(count);
        DeviceBuffer logits = rig.Poisoned((long)b * hkv * g * chunks * 4), stats = rig.Poisoned((long)b * hkv * tiles * g * 2 * 4);
        DeviceBuffer scores = rig.Poisoned((long)b * hkv * chunks * 4);
        var grid = new Dim3((uint)tiles, hkv, b);
        rig.Launch(Kernel($"llama_decode_landmark_scores<{d},{g}>"), grid, new Dim3(256), 0,
            rig.Upload(q), rig.Upload(lm), dcount, logits, stats, hkv, chunks);
        rig.Launch(Kernel($"llama_decode_landmark_scores_finish<{g}>"), grid, new Dim3(256), 0,
            dcount, logits, stats, scores, hkv, chunks);
        uint[] bits = rig.Download<uint>(scores, (long)b * hkv * chunks);

        double worst = 0;
        for (int s = 0; s < b; s++)
        {
            for (int h = 0; h < hkv; h++)
            {
                int head = s * hkv + h, n = count[head];
                float[] actual = bits.AsSpan(head * chunks, n).ToArray().Select(BitConverter.UInt32BitsToSingle).ToArray();
                var expected = new float[n];
                if (n > 0)
                {
                    ShadowKvKernels.LandmarkScores(qValues.AsSpan((s * hq + h * g) * d, g * d), lmValues.AsSpan(head * chunks * d, n * d),
                        g, 1, d, n, expected);
                }

                // Logits are f32 dots of the same bf16 values (order differs: ~1e-6 relative), softmax through exp2f with
                // log2(e) folded into q: a logit error δ moves a probability by ≈ δ relative. 1e-4 relative covers both;
                // 1e-7 absolute for f32 denormal flushing of tiny probabilities.
                worst = Math.Max(worst, Compare.Close(actual, expected, 1e-7, 1e-4, $"landmark scores s={s} h={h} n={n}"));
                for (int j = n; j < chunks; j++)
                {
                    Assert.True(bits[head * chunks + j] == 0xFFFFFFFFu, $"score s={s} h={h} j={j} past the count {n} was written");
                }
            }
        }

        output.WriteLine($"d={d} G={g}: worst |error| {worst:E2}");
    }

    // ---- 2. top_k_chunks --------------------------------------------------------------------------------------------

    [GpuTheory]
    [InlineData(64, false)]
    [InlineData(64, true)]
    [InlineData(1, false)]
    [InlineData(200, true)]
    public void Top_k_chunks_selects_the_k_best_ascending_with_pads(int budget, bool signedScores)
    {
        const int b = 3, hkv = 2, chunks = 600;
        // Ragged counts: more than k, k + 1, exactly k, fewer (pads), none, odd.
        int[] count = [600, budget + 1, budget, 3, 0, 599];
        var random = new Random(201 + budget);
        var scores = new float[b * hkv * chunks];
        var ids = new int[b * hkv * chunks];
        for (int head = 0; head < b * hkv; head++)
        {
            // Distinct values (no near-ties): the selected sets must match exactly. Unsigned: probability-like values
            // that share their high bits (exercises the radix passes on low bits); signed: both signs.
            int[] perm = Enumerable.Range(0, chunks).OrderBy(_ => random.Next()).ToArray();
            int id = 0;
            for (int j = 0; j < chunks; j++)
            {
                scores[head * chunks + j] = signedScores ? (perm[j] - chunks / 2) * 0.01f : MathF.ScaleB(1f + perm[j] / 1024f, -10);
                id += 1 + random.Next(3); // ascending chunk ids with gaps (outliers removed)
                ids[head * chunks + j] = id;
            }
        }

        using var rig = new KernelRig();
        DeviceBuffer selected = rig.Upload(Filled(b * hkv * budget, IntPoison));
        rig.Launch(Kernel($"llama_decode_top_k_chunks<{C}>"), new Dim3(hkv, b), new Dim3(1024), 0,
            rig.Upload(scores), rig.Upload(ids), rig.Upload(count), selected, hkv, chunks, budget);
        int[] actual = rig.Download<int>(selected, b * hkv * budget);

        for (int head = 0; head < b * hkv; head++)
        {
            int n = count[head];
            int[] expected = Filled(budget, -1);
            if (n > 0)
            {
                var chosen = new int[Math.Min(budget, n)];
                int taken = ShadowKvKernels.TopKChunks(scores.AsSpan(head * chunks, n), ids.AsSpan(head * chunks, n), 1, n, budget, chosen);
                chosen.AsSpan(0, taken).CopyTo(expected);
            }

            Assert.Equal(expected, actual.AsSpan(head * budget, budget).ToArray()); // integer ids: exact
        }
    }

    // ---- 3. selection_diff ------------------------------------------------------------------------------------------

    /// <summary>The contract of selection_diff for one (sequence, KV head), written out directly.</summary>
    private static (int[] Next, int[] Misses, int MissCount) ExpectedDiff(int[] selected, int[] slots)
    {
        int k = slots.Length;
        var sel = selected.Where(x => x >= 0).ToList();
        var chosen = new HashSet<int>(sel);
        var held = new HashSet<int>(slots.Where(x => x >= 0));
        int[] next = Filled(k, -1);
        var freeSlots = new List<int>();
        for (int i = 0; i < k; i++)
        {
            if (slots[i] >= 0 && chosen.Contains(slots[i]))
            {
                next[i] = slots[i]; // a hit keeps its slot
            }
            else
            {
                freeSlots.Add(i); // ascending
            }
        }

        int[] newChunks = sel.Where(x => !held.Contains(x)).ToArray(); // ascending: selected is ascending
        int[] misses = Filled(k, -1);
        for (int m = 0; m < newChunks.Length; m++)
        {
            next[freeSlots[m]] = newChunks[m];
            misses[m] = freeSlots[m];
        }

        return (next, misses, newChunks.Length);
    }

    [GpuTheory]
    [InlineData(64, false)]
    [InlineData(64, true)]
    [InlineData(300, true)]  // k > 256 threads: several scan rounds
    [InlineData(1, false)]
    public void Selection_diff_keeps_hits_in_their_slots_and_fills_freed_slots(int budget, bool alias)
    {
        const int b = 2, hkv = 3;
        var random = new Random(301 + budget);
        var selected = new int[b * hkv * budget];
        var slots = new int[b * hkv * budget];
        for (int head = 0; head < b * hkv; head++)
        {
            // Previous slot contents: distinct chunk ids in arbitrary slot order, some slots empty (head 0: all empty,
            // as on the first step). New selection: ascending, overlapping the previous about half, −1 pads.
            int[] universe = Enumerable.Range(0, 3 * budget + 10).OrderBy(_ => random.Next()).ToArray();
            int heldCount = head == 0 ? 0 : random.Next(budget + 1);
            int[] previous = universe.Take(heldCount).ToArray();
            int[] slotOf = Enumerable.Range(0, budget).OrderBy(_ => random.Next()).ToArray();
            int[] row = Filled(budget, -1);
            for (int i = 0; i < heldCount; i++)
            {
                row[slotOf[i]] = previous[i];
            }

            row.CopyTo(slots, head * budget);
            int selCount = head == 1 ? budget : head == 2 ? 0 : random.Next(budget + 1);
            int keep = Math.Min(selCount, random.Next(heldCount + 1));
            int[] sel = previous.Take(keep).Concat(universe.Skip(heldCount).Take(selCount - keep)).Order().ToArray();
            Filled(budget, -1).CopyTo(selected, head * budget);
            sel.CopyTo(selected, head * budget);
        }

        using var rig = new KernelRig();
        DeviceBuffer dslots = rig.Upload(slots);
        DeviceBuffer next = alias ? dslots : rig.Upload(Filled(b * hkv * budget, IntPoison));
        DeviceBuffer misses = rig.Upload(Filled(b * hkv * budget, IntPoison)), missCount = rig.Upload(Filled(b * hkv, IntPoison));
        rig.Launch(Kernel($"llama_decode_selection_diff<{C}>"), new Dim3(hkv, b), new Dim3(256), budget * 20,
            rig.Upload(selected), dslots, next, misses, missCount, hkv, budget);
        int[] actualNext = rig.Download<int>(next, b * hkv * budget), actualMisses = rig.Download<int>(misses, b * hkv * budget);
        int[] actualCount = rig.Download<int>(missCount, b * hkv);

        for (int head = 0; head < b * hkv; head++)
        {
            int[] sel = selected.AsSpan(head * budget, budget).ToArray(), prev = slots.AsSpan(head * budget, budget).ToArray();
            (int[] expectedNext, int[] expectedMisses, int expectedCount) = ExpectedDiff(sel, prev);
            // Slot semantics are integers: exact.
            Assert.Equal(expectedNext, actualNext.AsSpan(head * budget, budget).ToArray());
            Assert.Equal(expectedMisses, actualMisses.AsSpan(head * budget, budget).ToArray());
            Assert.Equal(expectedCount, actualCount[head]);

            // Cross-check with the CPU operator: its misses (chunk ids, ascending) are the chunks the missed slots now hold.
            int nsel = sel.Count(x => x >= 0), nprev = prev.Count(x => x >= 0);
            int[] prevSorted = prev.Where(x => x >= 0).Order().ToArray();
            int[] hits = new int[Math.Max(nsel, 1)], cpuMisses = new int[Math.Max(nsel, 1)], hitCounts = new int[1], missCounts = new int[1];
            ShadowKvKernels.SelectionDiff(prevSorted, nprev, sel.AsSpan(0, nsel), nsel, 1, hits, cpuMisses, hitCounts, missCounts);
            Assert.Equal(missCounts[0], actualCount[head]);
            Assert.Equal(cpuMisses.Take(missCounts[0]), actualMisses.AsSpan(head * budget, actualCount[head]).ToArray().Select(slot => actualNext[head * budget + slot]));
        }
    }

    // ---- 4. rebuild_keys_rope ---------------------------------------------------------------------------------------

    /// <summary>A next-step slot table with −1 slots and the ascending list of the slots to fill (some of the held ones).</summary>
    private static (int[] SlotChunk, int[] Misses, int[] MissCount) RandomMisses(int b, int hkv, int budget, int chunks, int seed)
    {
        var random = new Random(seed);
        var slotChunk = new int[b * hkv * budget];
        var misses = Filled(b * hkv * budget, -1);
        var missCount = new int[b * hkv];
        for (int head = 0; head < b * hkv; head++)
        {
            int[] ids = Enumerable.Range(0, chunks).OrderBy(_ => random.Next()).Take(budget).ToArray();
            var held = new List<int>();
            for (int i = 0; i < budget; i++)
            {
                bool empty = random.Next(5) == 0;
                slotChunk[head * budget + i] = empty ? -1 : ids[i];
                if (!empty)
                {
                    held.Add(i);
                }
            }

            // Head 0: every held slot missed; head 1: none; others: an odd subset (not a multiple of 64/c per block).
            int[] missed = head == 0 ? held.ToArray() : head == 1 ? [] : held.Where(_ => random.Next(3) != 0).ToArray();
            if (head > 1 && missed.Length % 2 == 0 && missed.Length > 0)
            {
                missed = missed[..^1];
            }

            missed.CopyTo(misses, head * budget);
            missCount[head] = missed.Length;
        }

        return (slotChunk, misses, missCount);
    }

    [GpuTheory]
    [InlineData(64, 40)]    // rank not a multiple of 16: the padded mma k-step
    [InlineData(64, 128)]
    [InlineData(128, 160)]
    [InlineData(128, 256)]  // Rank = Hkv·d
    public void Rebuild_keys_rope_matches_the_low_rank_product_with_rope(int d, int r)
    {
        const int b = 2, hkv = 2, S = 2048, budget = 40;
        int D = hkv * d, chunks = S / C;
        (ushort[] lowrank, float[] lowrankValues) = Compare.RandomBf16(b * S * r, seed: 401);
        float[] basis = Compare.RandomFloats(b * r * D, seed: 402, scale: 1f / MathF.Sqrt(r));
        float[] invFreq = RopeFrequencies.Compute(d, 500000.0, null);
        (int[] slotChunk, int[] misses, int[] missCount) = RandomMisses(b, hkv, budget, chunks, seed: 403 + d + r);
        using var rig = new KernelRig();
        long workElements = (long)b * hkv * budget * C * d;
        DeviceBuffer workK = rig.Poisoned(workElements * 2);
        rig.Launch(Kernel($"llama_decode_rebuild_keys_rope<{d},{C},{r}>"), new Dim3((uint)CeilDiv(budget * C, 64), hkv, b), new Dim3(128), 0,
            rig.Upload(misses), rig.Upload(missCount), rig.Upload(slotChunk), rig.Upload(lowrank), rig.Upload(basis), rig.Upload(invFreq),
            workK, hkv, S, budget);
        ushort[] bits = rig.Download<ushort>(workK, workElements);

        double worst = 0;
        int rebuilt = 0;
        for (int s = 0; s < b; s++)
        {
            // CPU reference over every slot (−1 slots rebuild chunk 0, unused); only the missed slots are compared.
            int[] chunkIds = slotChunk.AsSpan(s * hkv * budget, hkv * budget).ToArray().Select(x => Math.Max(x, 0)).ToArray();
            var expected = new float[hkv * budget * C * d];
            ShadowKvKernels.RebuildKeys(lowrankValues.AsSpan(s * S * r, S * r), basis.AsSpan(s * r * D, r * D), r, hkv, d, C,
                chunkIds, budget, invFreq, expected);
            for (int h = 0; h < hkv; h++)
            {
                int head = s * hkv + h;
                var missed = new HashSet<int>(misses.AsSpan(head * budget, missCount[head]).ToArray());
                for (int slot = 0; slot < budget; slot++)
                {
                    long at = ((long)head * budget + slot) * C * d;
                    ushort[] rows = bits.AsSpan((int)at, C * d).ToArray();
                    if (!missed.Contains(slot))
                    {
                        Assert.True(rows.All(x => x == 0xFFFF), $"work_k slot {slot} of s={s} h={h} is not a miss but was written");
                        continue;
                    }

                    rebuilt++;
                    // The kernel multiplies bf16 A by the f32 basis split into bf16 hi + lo (lo = bf16(x − hi) keeps
                    // x to 2⁻¹⁸ relative) with fp32 accumulation: ≈1e-5 of Σ|a||b| (≤ 4 here: |a| < 1, |b| < 1/√r),
                    // then RoPE with cosf/sinf of the same f32 angle, then the bf16 store. Tolerance: one bf16 ulp of
                    // the output relative, plus 1e-4 absolute for the pre-rounding error where RoPE cancels to ~0.
                    float[] actual = rows.Select(Bf16.ToFloat).ToArray();
                    worst = Math.Max(worst, Compare.Close(actual, expected.AsSpan((h * budget + slot) * C * d, C * d), 1e-4, Bf16Ulp,
                        $"work_k s={s} h={h} slot={slot} chunk={slotChunk[head * budget + slot]}"));
                }
            }
        }

        output.WriteLine($"d={d} r={r}: {rebuilt} chunks rebuilt, worst |error| {worst:E2}");
    }

    // ---- 5. fetch_values --------------------------------------------------------------------------------------------

    [GpuTheory]
    [InlineData(64, false)] [InlineData(64, true)]
    [InlineData(128, false)] [InlineData(128, true)]
    public void Fetch_values_copies_missed_chunks_into_their_slots(int d, bool mappedHost)
    {
        const int b = 2, hkv = 3, S = 1000, budget = 24; // S/c = 125
        int chunks = S / C;
        (int[] slotChunk, int[] misses, int[] missCount) = RandomMisses(b, hkv, budget, chunks, seed: 501 + d);
        var random = new Random(502);
        ushort[] store = new ushort[b * hkv * chunks * C * d];
        for (int i = 0; i < store.Length; i++)
        {
            store[i] = (ushort)random.Next(0x10000); // any bit pattern: a copy must move bits, not values
        }

        using var rig = new KernelRig();
        using PinnedHostPool? pool = mappedHost ? PinnedHostPool.Create(TestGpu.Device, (long)store.Length * 2, "value store") : null;
        DeviceBuffer dstore;
        if (pool is not null)
        {
            store.CopyTo(pool.AsSpan<ushort>(0, store.Length)); // the zero-copy path: the kernel reads host memory
            dstore = pool.DeviceBuffer;
        }
        else
        {
            dstore = rig.Upload(store);
        }

        long workElements = (long)b * hkv * budget * C * d;
        DeviceBuffer workV = rig.Poisoned(workElements * 2);
        rig.Launch(Kernel($"llama_decode_fetch_values<{d},{C}>"), new Dim3((uint)CeilDiv(budget, 8), hkv, b), new Dim3(256), 0,
            rig.Upload(misses), rig.Upload(missCount), rig.Upload(slotChunk), dstore, workV, hkv, S, budget);
        ushort[] actual = rig.Download<ushort>(workV, workElements);

        for (int head = 0; head < b * hkv; head++)
        {
            var missed = new HashSet<int>(misses.AsSpan(head * budget, missCount[head]).ToArray());
            for (int slot = 0; slot < budget; slot++)
            {
                ushort[] rows = actual.AsSpan((head * budget + slot) * C * d, C * d).ToArray();
                ushort[] expected = missed.Contains(slot)
                    ? store.AsSpan((head * chunks + slotChunk[head * budget + slot]) * C * d, C * d).ToArray()
                    : Filled(C * d, 0xFFFF).Select(x => (ushort)x).ToArray(); // not a miss: untouched
                Assert.True(expected.AsSpan().SequenceEqual(rows), $"work_v head {head} slot {slot} (missed: {missed.Contains(slot)})");
            }
        }
    }

    // ---- 6. sparse_attention + sparse_attention_combine ------------------------------------------------------------

    [GpuTheory]
    [InlineData(64, 1)] [InlineData(64, 4)]
    [InlineData(128, 1)] [InlineData(128, 4)]
    public void Sparse_attention_matches_attention_over_local_outliers_slots_and_generated(int d, int g)
    {
        const int b = 3, hkv = 2, S = 1000, nloc = 4, o = 4, budget = 24, maxNew = 5;
        int hq = hkv * g;
        // Ragged: a long prompt (n_c = 121 chunks, 32-token tail, 3 generated); an odd one with one chunk (one outlier
        // of the 4 allowed, 37-token tail, the current token only); a short one with no chunks (all slots −1, 20
        // local tokens, max_new generated).
        int[] promptLen = [1000, 45, 20];
        int[] contextLen = [1003, 46, 25];
        int[] localCount = [32, 37, 20];
        int localCap = (nloc + 1) * C, outlierCap = o * C, workCap = budget * C;
        int splits = CeilDiv(localCap + outlierCap + workCap + maxNew, 128);

        var random = new Random(601 + d + g);
        int[] slotChunk = new int[b * hkv * budget];
        for (int i = 0; i < slotChunk.Length; i++)
        {
            int s = i / (hkv * budget);
            slotChunk[i] = s == 2 || random.Next(4) == 0 ? -1 : random.Next(100); // −1: an empty working slot
        }

        // Rows a sequence does not own are NaN (bf16 0xFFFF): reading one would poison the output.
        (ushort[] q, float[] qv) = Compare.RandomBf16(b * hq * d, seed: 602, scale: 2f);
        (ushort[] localK, float[] localKv) = Region(b * hkv, localCap, d, (s, row) => row < localCount[s / hkv], 603);
        (ushort[] localV, float[] localVv) = Region(b * hkv, localCap, d, (s, row) => row < localCount[s / hkv], 604);
        int Outliers(int s) => Math.Min(o, Math.Max(promptLen[s] / C - nloc, 0));
        (ushort[] outK, float[] outKv) = Region(b * hkv, outlierCap, d, (s, row) => row < Outliers(s / hkv) * C, 605);
        (ushort[] outV, float[] outVv) = Region(b * hkv, outlierCap, d, (s, row) => row < Outliers(s / hkv) * C, 606);
        (ushort[] workK, float[] workKv) = Region(b * hkv, workCap, d, (head, row) => slotChunk[head * budget + row / C] >= 0, 607);
        (ushort[] workV, float[] workVv) = Region(b * hkv, workCap, d, (head, row) => slotChunk[head * budget + row / C] >= 0, 608);
        (ushort[] genK, float[] genKv) = Region(b * hkv, maxNew, d, (s, row) => row < contextLen[s / hkv] - promptLen[s / hkv], 609);
        (ushort[] genV, float[] genVv) = Region(b * hkv, maxNew, d, (s, row) => row < contextLen[s / hkv] - promptLen[s / hkv], 610);

        using var rig = new KernelRig();
        DeviceBuffer partials = rig.Poisoned((long)b * hq * splits * (d + 2) * 4), y = rig.Poisoned((long)b * hq * d * 2);
        rig.Launch(Kernel($"llama_decode_sparse_attention<{d},{g},{C}>"), new Dim3((uint)splits, hkv, b), new Dim3(128), 0,
            rig.Upload(q), rig.Upload(localK), rig.Upload(localV), rig.Upload(localCount), rig.Upload(outK), rig.Upload(outV),
            rig.Upload(workK), rig.Upload(workV), rig.Upload(slotChunk), rig.Upload(genK), rig.Upload(genV),
            rig.Upload(contextLen), rig.Upload(promptLen), partials, b, hkv, S, o, nloc, budget, maxNew, splits);
        rig.Launch(Kernel($"llama_decode_sparse_attention_combine<{d}>"), new Dim3((uint)hq, b), new Dim3(128), 0,
            partials, y, b, hq, splits);
        float[] actual = rig.DownloadBf16(y, (long)b * hq * d);

        var expected = new float[b * hq * d];
        for (int s = 0; s < b; s++)
        {
            for (int h = 0; h < hkv; h++)
            {
                int head = s * hkv + h;
                // Exact rows [local | outliers | generated], then the selected (held) working slots' rows.
                var exactK = new List<float>();
                var exactV = new List<float>();
                void Take(float[] k, float[] v, int cap, int rows)
                {
                    exactK.AddRange(k.AsSpan(head * cap * d, rows * d).ToArray());
                    exactV.AddRange(v.AsSpan(head * cap * d, rows * d).ToArray());
                }

                Take(localKv, localVv, localCap, localCount[s]);
                Take(outKv, outVv, outlierCap, Outliers(s) * C);
                Take(genKv, genVv, maxNew, contextLen[s] - promptLen[s]);
                var selK = new List<float>();
                var selV = new List<float>();
                for (int slot = 0; slot < budget; slot++)
                {
                    if (slotChunk[head * budget + slot] >= 0)
                    {
                        selK.AddRange(workKv.AsSpan((head * workCap + slot * C) * d, C * d).ToArray());
                        selV.AddRange(workVv.AsSpan((head * workCap + slot * C) * d, C * d).ToArray());
                    }
                }

                int exactCount = exactK.Count / d, selCount = selK.Count / d;
                ShadowKvKernels.SparseAttention(qv.AsSpan((s * hq + h * g) * d, g * d), g, 1, d,
                    exactK.ToArray(), exactV.ToArray(), exactCount, exactCount, selK.ToArray(), selV.ToArray(), selCount,
                    expected.AsSpan((s * hq + h * g) * d, g * d));
            }
        }

        // Everything in f32 (q·k over the same bf16 values, exp2f with log2(e) folded into q, split merge) except the
        // final rounding of y to bf16: one ulp relative, 1e-4 absolute for f32 order differences near zero.
        double worst = Compare.Close(actual, expected, 1e-4, Bf16Ulp, $"sparse_attention d={d} G={g}");
        output.WriteLine($"d={d} G={g} splits={splits}: worst |error| {worst:E2}");
    }

    /// <summary>
    /// A [heads, cap, d] bf16 region: random values where <paramref name="valid"/>(head, row), NaN elsewhere (a kernel
    /// that reads an invalid row turns the output to NaN). Returns the bits and the float values (NaN where invalid).
    /// </summary>
    private static (ushort[] Bits, float[] Values) Region(int heads, int cap, int d, Func<int, int, bool> valid, int seed)
    {
        (ushort[] bits, float[] values) = Compare.RandomBf16(heads * cap * d, seed);
        for (int head = 0; head < heads; head++)
        {
            for (int row = 0; row < cap; row++)
            {
                if (!valid(head, row))
                {
                    bits.AsSpan((head * cap + row) * d, d).Fill(0xFFFF);
                    values.AsSpan((head * cap + row) * d, d).Fill(float.NaN);
                }
            }
        }

        return (bits, values);
    }
}
