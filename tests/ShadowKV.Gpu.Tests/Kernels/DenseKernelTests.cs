using System;
using System.Linq;
using ShadowKV.Gpu.Tests.Support;
using ShadowKV.Runtime.Cpu.Kernels;
using ShadowKV.Runtime.Cuda;
using ShadowKV.Runtime.Engine.Checkpoints;
using LlamaCuda = ShadowKV.Models.Llama.Cuda;

namespace ShadowKV.Gpu.Tests.Kernels;

// Every emitted dense kernel (as the generator wrote it into Llama's prefill/decode .cu) against the CPU reference
// operators, on random inputs. Inputs the GPU reads as bf16 are generated as exact bf16 values, so both sides see the
// same numbers; each tolerance below says which rounding it allows.
public sealed class DenseKernelTests(ITestOutputHelper output)
{
    private const string Prefill = "llama_prefill_full.cu";
    private const string Decode = "llama_decode_full.cu";

    // Rounding an f32 result to bf16 (8 significant bits): ≤ 2⁻⁹ relative; a different f32 summation order can move
    // the value across a rounding boundary, so one bf16 ulp (2⁻⁸ ≈ 3.9e-3) relative is allowed.
    private const double Bf16Ulp = 1.0 / 256;

    [GpuTheory]
    [InlineData(1, 64)]
    [InlineData(7, 100)]      // hidden % 8 != 0: the scalar path
    [InlineData(33, 4096)]
    public void Embedding_is_an_exact_gather(int t, int hidden)
    {
        const int vocab = 300;
        (ushort[] table, float[] tableValues) = Compare.RandomBf16(vocab * hidden, seed: 1);
        int[] tokens = Enumerable.Range(0, t).Select(i => (i * 37 + 5) % vocab).ToArray();
        using var rig = new KernelRig();
        DeviceBuffer x = rig.Poisoned((long)t * hidden * 4);
        rig.Launch(KernelRig.Kernel(Prefill, LlamaCuda.PrefillFull, "llama_prefill_embedding"), new Dim3((uint)t), new Dim3(256), 0,
            rig.Upload(tokens), rig.Upload(table), x, hidden, vocab);
        var expected = new float[t * hidden];
        CpuKernels.EmbeddingGather(tokens, tableValues, hidden, expected);
        Compare.Close(rig.Download<float>(x, expected.Length), expected, 0, 0, "x"); // bf16 → f32 is exact
    }

    [GpuTheory]
    [InlineData(1, 64)]
    [InlineData(5, 99)]
    [InlineData(17, 4096)]
    public void Rms_norm_and_the_fused_residual_add(int t, int hidden)
    {
        const float eps = 1e-5f;
        float[] x = Compare.RandomFloats(t * hidden, seed: 2, scale: 3f), residual = Compare.RandomFloats(t * hidden, seed: 3);
        (ushort[] weight, float[] weightValues) = Compare.RandomBf16(hidden, seed: 4, scale: 2f);
        using var rig = new KernelRig();
        DeviceBuffer dx = rig.Upload(x), dres = rig.Upload(residual), dw = rig.Upload(weight), y = rig.Poisoned((long)t * hidden * 2);
        rig.Launch(KernelRig.Kernel(Prefill, LlamaCuda.PrefillFull, "llama_prefill_rms_norm"), new Dim3((uint)t), new Dim3(256), 0, dx, dw, y, hidden, eps);
        var expected = new float[t * hidden];
        CpuKernels.RmsNorm(x, weightValues, eps, expected);
        // bf16 output: one ulp; abs 1e-6 for f32 order differences near zero.
        double worst = Compare.Close(rig.DownloadBf16(y, expected.Length), expected, 1e-6, Bf16Ulp, "rms_norm y");

        // add_rms_norm with sum aliasing x, as the plan runs it.
        rig.Launch(KernelRig.Kernel(Prefill, LlamaCuda.PrefillFull, "llama_prefill_add_rms_norm"), new Dim3((uint)t), new Dim3(256), 0, dx, dres, dw, dx, y, hidden, eps);
        float[] sum = (float[])x.Clone();
        CpuKernels.AddRmsNorm(sum, residual, weightValues, eps, expected);
        Compare.Close(rig.Download<float>(dx, sum.Length), sum, 0, 1e-7, "add_rms_norm sum"); // one f32 add: exact up to f32 rounding
        worst = Math.Max(worst, Compare.Close(rig.DownloadBf16(y, expected.Length), expected, 1e-6, Bf16Ulp, "add_rms_norm y"));
        output.WriteLine($"T={t} hidden={hidden}: worst |error| {worst:E2}");
    }

    [GpuTheory]
    [InlineData(1, 172)]
    [InlineData(9, 1001)]     // n not a multiple of 4: the scalar tail
    [InlineData(64, 14336)]
    public void Silu_mul(int t, int ffn)
    {
        float[] gate = Compare.RandomFloats(t * ffn, seed: 5, scale: 6f), up = Compare.RandomFloats(t * ffn, seed: 6, scale: 2f);
        using var rig = new KernelRig();
        DeviceBuffer y = rig.Poisoned((long)t * ffn * 2);
        int n = t * ffn;
        rig.Launch(KernelRig.Kernel(Prefill, LlamaCuda.PrefillFull, "llama_prefill_silu_mul"), new Dim3((uint)((n + 1023) / 1024)), new Dim3(256), 0,
            rig.Upload(gate), rig.Upload(up), y, t, ffn);
        var expected = new float[n];
        CpuKernels.SiluMul(gate, up, expected);
        // bf16 output (one ulp) after __expf (relative error ~1e-6): abs 1e-6 near zero.
        Compare.Close(rig.DownloadBf16(y, n), expected, 1e-6, Bf16Ulp, "silu_mul");
    }

    [GpuFact]
    public void Silu_mul_reaches_elements_past_two_to_the_31()
    {
        // A 150K-token prefill of an 8B shape: 150000 × 14336 = 2.15e9 elements, past int32 (21.5 GB of buffers).
        // Constant inputs (byte fills) keep the host side small; the elements around 2³¹ and at the end are checked.
        const int rows = 150_000, ffn = 14336;
        long n = (long)rows * ffn;
        using var rig = new KernelRig(n * 10 + (64L << 20));
        DeviceBuffer gate = rig.Poisoned(n * 4), up = rig.Poisoned(n * 4), y = rig.Poisoned(n * 2);
        rig.Stream.Fill(gate, 0x3F); // 0x3F3F3F3F = 0.7470
        rig.Stream.Fill(up, 0x40);   // 0x40404040 = 3.0039
        rig.Launch(KernelRig.Kernel(Prefill, LlamaCuda.PrefillFull, "llama_prefill_silu_mul"), new Dim3((uint)((n + 1023) / 1024)), new Dim3(256), 0,
            gate, up, y, rows, ffn);
        float g = BitConverter.Int32BitsToSingle(0x3F3F3F3F), u = BitConverter.Int32BitsToSingle(0x40404040);
        float value = g / (1 + MathF.Exp(-g)) * u;
        foreach (long start in new[] { (1L << 31) - 8, n - 16 })
        {
            float[] actual = rig.DownloadBf16(y.Slice(start * 2, 16 * 2), 16);
            Compare.Close(actual, Enumerable.Repeat(value, 16).ToArray(), 1e-6, Bf16Ulp, $"silu_mul at element {start}");
        }
    }

    [GpuFact]
    public void Gather_rows_copies_each_slots_last_row_and_zeros_absent_slots()
    {
        const int t = 11, width = 96;
        float[] x = Compare.RandomFloats(t * width, seed: 7);
        int[] rows = [10, -1, 3];
        using var rig = new KernelRig();
        DeviceBuffer y = rig.Poisoned(rows.Length * width * 4);
        rig.Launch(KernelRig.Kernel(Prefill, LlamaCuda.PrefillFull, "llama_prefill_gather_rows"), new Dim3((uint)rows.Length), new Dim3(256), 0,
            rig.Upload(x), rig.Upload(rows), y, width, t);
        float[] actual = rig.Download<float>(y, rows.Length * width);
        for (int b = 0; b < rows.Length; b++)
        {
            for (int i = 0; i < width; i++)
            {
                Assert.Equal(rows[b] < 0 ? 0f : x[rows[b] * width + i], actual[b * width + i]); // a copy: exact
            }
        }
    }

    [GpuTheory]
    [InlineData(8)]
    [InlineData(64)]
    [InlineData(128)]
    public void Rope_kv_append_rotates_q_and_writes_the_cache(int d)
    {
        const int hq = 4, hkv = 2, slots = 3, capacity = 4200;
        // Ragged: slot 2 from 0 (5 tokens), slot 0 continuing at 4090 (a chunk late in a long context: large angles).
        (int Slot, int Start, int Length)[] sequences = [(2, 0, 5), (0, 4090, 7)];
        int[] positions = sequences.SelectMany(s => Enumerable.Range(s.Start, s.Length)).ToArray();
        int[] tokenSeq = sequences.SelectMany(s => Enumerable.Repeat(s.Slot, s.Length)).ToArray();
        int t = positions.Length;
        float[] q = Compare.RandomFloats(t * hq * d, seed: 8), k = Compare.RandomFloats(t * hkv * d, seed: 9), v = Compare.RandomFloats(t * hkv * d, seed: 10);
        float[] invFreq = RopeFrequencies.Compute(d, 500000.0, null);
        using var rig = new KernelRig();
        long cacheElements = (long)slots * hkv * capacity * d;
        DeviceBuffer qRot = rig.Poisoned((long)t * hq * d * 2), kCache = rig.Poisoned(cacheElements * 2), vCache = rig.Poisoned(cacheElements * 2);
        rig.Launch(KernelRig.Kernel(Prefill, LlamaCuda.PrefillFull, $"llama_prefill_rope_kv_append<{d}>"), new Dim3((uint)t), new Dim3(128), 0,
            rig.Upload(q), rig.Upload(k), rig.Upload(v), rig.Upload(positions), rig.Upload(tokenSeq), rig.Upload(invFreq),
            qRot, kCache, vCache, hq, hkv, capacity, slots);

        float[] qExpected = (float[])q.Clone(), kExpected = (float[])k.Clone();
        CpuKernels.Rope(qExpected, hq, d, positions, invFreq);
        CpuKernels.Rope(kExpected, hkv, d, positions, invFreq);
        // bf16 output: one ulp relative; abs 1e-5 for x·cos − y·sin cancelling (f32 cosf/sinf differ by an ulp).
        double worst = Compare.Close(rig.DownloadBf16(qRot, q.Length), qExpected, 1e-5, Bf16Ulp, "q_rot");
        float[] kc = rig.DownloadBf16(kCache, cacheElements), vc = rig.DownloadBf16(vCache, cacheElements);
        var kActual = new float[k.Length];
        var vActual = new float[v.Length];
        for (int row = 0; row < t; row++)
        {
            for (int h = 0; h < hkv; h++)
            {
                long cache = (((long)tokenSeq[row] * hkv + h) * capacity + positions[row]) * d;
                Array.Copy(kc, cache, kActual, (row * hkv + h) * d, d);
                Array.Copy(vc, cache, vActual, (row * hkv + h) * d, d);
            }
        }

        worst = Math.Max(worst, Compare.Close(kActual, kExpected, 1e-5, Bf16Ulp, "k_cache"));
        Compare.Close(vActual, v.Select(Bf16.Round).ToArray(), 0, 0, "v_cache"); // v is only rounded to bf16 (nearest even on both sides)
        output.WriteLine($"d={d}: worst |error| {worst:E2}");
    }

    // Ragged batch: 4 sequences (odd lengths, one of a single token, one a chunk continuing at position 50 over
    // earlier cache rows), rows token-major across sequences so 64-row tiles straddle sequence boundaries.
    private static readonly (int Slot, int Start, int Length)[] FlashSequences = [(1, 0, 37), (0, 0, 1), (2, 50, 70), (3, 0, 130)];

    [GpuTheory]
    [InlineData(8, 1)] [InlineData(8, 2)] [InlineData(8, 4)]
    [InlineData(64, 1)] [InlineData(64, 2)] [InlineData(64, 4)]
    [InlineData(128, 1)] [InlineData(128, 2)] [InlineData(128, 4)]
    public void Flash_attention_matches_causal_attention_over_a_ragged_batch(int d, int g)
    {
        const int hkv = 2, slots = 4, capacity = 256;
        int hq = hkv * g;
        int[] positions = FlashSequences.SelectMany(s => Enumerable.Range(s.Start, s.Length)).ToArray();
        int[] tokenSeq = FlashSequences.SelectMany(s => Enumerable.Repeat(s.Slot, s.Length)).ToArray();
        int t = positions.Length;
        (ushort[] q, float[] qValues) = Compare.RandomBf16(t * hq * d, seed: 11);
        (ushort[] k, float[] kValues) = Compare.RandomBf16(slots * hkv * capacity * d, seed: 12);
        (ushort[] v, float[] vValues) = Compare.RandomBf16(slots * hkv * capacity * d, seed: 13);
        using var rig = new KernelRig();
        DeviceBuffer y = rig.Poisoned((long)t * hq * d * 2);
        rig.Launch(KernelRig.Kernel(Prefill, LlamaCuda.PrefillFull, $"llama_prefill_flash_attention<{d},{g}>"),
            new Dim3((uint)((t + 63) / 64), (uint)hq), new Dim3(128), 0,
            rig.Upload(q), rig.Upload(k), rig.Upload(v), rig.Upload(positions), rig.Upload(tokenSeq), y, t, hq, hkv, capacity);
        float[] actual = rig.DownloadBf16(y, (long)t * hq * d);

        var expected = new float[t * hq * d];
        int row = 0;
        int cacheSize = hkv * capacity * d;
        foreach ((int slot, int start, int length) in FlashSequences)
        {
            CpuKernels.PrefillAttention(qValues.AsSpan(row * hq * d, length * hq * d),
                kValues.AsSpan(slot * cacheSize, cacheSize), vValues.AsSpan(slot * cacheSize, cacheSize), capacity,
                hq, hkv, d, start, expected.AsSpan(row * hq * d, length * hq * d));
            row += length;
        }

        // P is rounded to bf16 for P·V (≤ 2⁻⁹ relative per weight, so ≤ 2⁻⁹·max|v| = 2e-3 on the output) and y is
        // rounded to bf16 (one ulp); softmax and accumulation are f32. Tolerance: 6e-3 absolute + one bf16 ulp relative.
        double worst = Compare.Close(actual, expected, 6e-3, Bf16Ulp, $"flash_attention d={d} G={g}");
        output.WriteLine($"d={d} G={g} T={t}: worst |error| {worst:E2}");
    }

    [GpuTheory]
    [InlineData(8, 1)] [InlineData(8, 2)] [InlineData(8, 4)]
    [InlineData(64, 1)] [InlineData(64, 2)] [InlineData(64, 4)]
    [InlineData(128, 1)] [InlineData(128, 2)] [InlineData(128, 4)]
    public void Decode_attention_and_combine_match_attention_over_the_cache(int d, int g)
    {
        const int hkv = 2, slots = 4, capacity = 600;
        int hq = hkv * g;
        // Rows → slots out of order; context lengths of one key, across the 256-key split boundary, and odd.
        int[] tokenSeq = [2, 0, 3];
        int[] contextLen = [517, 0, 1, 257]; // by slot; slot 1 is not in the step
        int rows = tokenSeq.Length;
        (ushort[] q, float[] qValues) = Compare.RandomBf16(rows * hq * d, seed: 14);
        (ushort[] k, float[] kValues) = Compare.RandomBf16(slots * hkv * capacity * d, seed: 15);
        (ushort[] v, float[] vValues) = Compare.RandomBf16(slots * hkv * capacity * d, seed: 16);
        int splits = (capacity + 255) / 256;
        using var rig = new KernelRig();
        DeviceBuffer partials = rig.Poisoned((long)slots * hq * splits * (d + 2) * 4), y = rig.Poisoned((long)rows * hq * d * 2);
        DeviceBuffer dq = rig.Upload(q), dseq = rig.Upload(tokenSeq), dlen = rig.Upload(contextLen);
        rig.Launch(KernelRig.Kernel(Decode, LlamaCuda.DecodeFull, $"llama_decode_decode_attention<{d},{g}>"),
            new Dim3((uint)splits, hkv, (uint)rows), new Dim3(128), 0,
            dq, rig.Upload(k), rig.Upload(v), dseq, dlen, partials, hkv, capacity, slots); // B bounds the cache's slots
        rig.Launch(KernelRig.Kernel(Decode, LlamaCuda.DecodeFull, $"llama_decode_decode_attention_combine<{d}>"),
            new Dim3((uint)hq, (uint)rows), new Dim3(128), 0,
            partials, dseq, dlen, y, hq, capacity, splits, rows);
        float[] actual = rig.DownloadBf16(y, (long)rows * hq * d);

        var expected = new float[rows * hq * d];
        int cacheSize = hkv * capacity * d;
        for (int r = 0; r < rows; r++)
        {
            int slot = tokenSeq[r];
            CpuKernels.DecodeAttention(qValues.AsSpan(r * hq * d, hq * d), kValues.AsSpan(slot * cacheSize, cacheSize),
                vValues.AsSpan(slot * cacheSize, cacheSize), capacity, contextLen[slot], hq, hkv, d, expected.AsSpan(r * hq * d, hq * d));
        }

        // Everything in f32 except the final rounding of y to bf16: one ulp relative, 1e-4 absolute for f32 order.
        double worst = Compare.Close(actual, expected, 1e-4, Bf16Ulp, $"decode_attention d={d} G={g}");
        output.WriteLine($"d={d} G={g}: worst |error| {worst:E2}");
    }
}
