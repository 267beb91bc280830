using ShadowKV.Compiler.Plans;
using ShadowKV.Runtime.Cpu.Kernels;

namespace ShadowKV.Runtime.Cpu;

// The ShadowKV prefill ops (SHADOWKV.md "Prefill"). Per sequence s: pre-RoPE keys K_s [P, D] (D = Hkv·d, head-major
// columns), gram [B, D, D], basis [B, r, D] (rows = top-r eigenvectors), lowrank [B, S, r] (A = K·basisᵀ), landmarks
// [B, Hkv, S/c, d] with ids [B, Hkv, S/c] and counts [B, Hkv], outliers [B, Hkv, o·c, d], local tail
// [B, Hkv, (nloc+1)·c, d] with count [B], value store [B, Hkv, S/c, c·d]. ShadowKV prefill is one-shot per sequence.
public sealed partial class CpuBackend
{
    private void KeyGram(PlanStep step)
    {
        Span<float> k = InF(step, "k"), gram = OutF(step, "gram");
        ReadOnlySpan<int> promptLen = InI(step, "prompt_len"), positions = _batch.Positions;
        int D = _hkv * _d;
        var accumulated = new double[D * D];
        foreach (Run run in _runs)
        {
            if (positions[run.Row] != 0 || run.Count != promptLen[run.Slot])
            {
                throw new NotSupportedException(
                    $"ShadowKV prefill is one-shot per sequence: slot {run.Slot} brings positions {positions[run.Row]} … {positions[run.Row] + run.Count - 1} of a {promptLen[run.Slot]}-token prompt.");
            }

            Array.Clear(accumulated);
            ShadowKvKernels.AccumulateKeyGram(k.Slice(run.Row * D, run.Count * D), D, accumulated);
            Span<float> target = gram.Slice(run.Slot * D * D, D * D);
            for (int i = 0; i < accumulated.Length; i++)
            {
                target[i] = (float)accumulated[i];
            }
        }
    }

    // Top-r eigenvectors of each sequence's gram as rows, by descending eigenvalue; signs fixed (largest |component|
    // positive) as ShadowKvKernels.LowRankFromGram fixes them, so factors are deterministic.
    private void KeyEigenbasis(PlanStep step)
    {
        Span<float> gram = InF(step, "gram"), basis = OutF(step, "basis");
        int D = _hkv * _d, r = _buffers.Dim(OutName(step, "basis"), 1);
        var matrix = new double[D * D];
        var values = new double[D];
        var vectors = new double[D * D];
        foreach (Run run in _runs)
        {
            Span<float> source = gram.Slice(run.Slot * D * D, D * D);
            for (int i = 0; i < matrix.Length; i++)
            {
                matrix[i] = source[i];
            }

            SymmetricEigen.Decompose(matrix, D, values, vectors);
            int[] order = Enumerable.Range(0, D).ToArray();
            Array.Sort(order, (x, y) => values[x] != values[y] ? values[y].CompareTo(values[x]) : x.CompareTo(y));
            Span<float> rows = basis.Slice(run.Slot * r * D, r * D);
            for (int j = 0; j < r; j++)
            {
                ReadOnlySpan<double> psi = vectors.AsSpan(order[j] * D, D);
                int largest = 0;
                for (int i = 1; i < D; i++)
                {
                    largest = Math.Abs(psi[i]) > Math.Abs(psi[largest]) ? i : largest;
                }

                double sign = psi[largest] < 0 ? -1 : 1;
                for (int i = 0; i < D; i++)
                {
                    rows[j * D + i] = (float)(sign * psi[i]);
                }
            }
        }
    }

    // lowrank[s, pos] = K[t]·basis[s]ᵀ: a Linear with the basis as the [out = r, in = D] weight.
    private void KeyProjection(PlanStep step)
    {
        Span<float> k = InF(step, "k"), basis = InF(step, "basis"), lowrank = OutF(step, "lowrank");
        ReadOnlySpan<int> positions = InI(step, "positions");
        string lowrankName = OutName(step, "lowrank");
        int D = _hkv * _d, S = _buffers.Dim(lowrankName, 1), r = _buffers.Dim(lowrankName, 2);
        foreach (Run run in _runs)
        {
            CpuKernels.Linear(k.Slice(run.Row * D, run.Count * D), basis.Slice(run.Slot * r * D, r * D), default, D, r,
                lowrank.Slice((run.Slot * S + positions[run.Row]) * r, run.Count * r));
        }
    }

    private void Landmarks(PlanStep step)
    {
        Span<float> kCache = InF(step, "k_cache"), vCache = InF(step, "v_cache");
        ReadOnlySpan<int> promptLen = InI(step, "prompt_len");
        Span<float> landmarks = OutF(step, "landmarks"), outlierK = OutF(step, "outlier_k"), outlierV = OutF(step, "outlier_v");
        Span<float> localK = OutF(step, "local_k"), localV = OutF(step, "local_v");
        Span<int> ids = OutI(step, "landmark_ids"), counts = OutI(step, "landmark_count"), localCount = OutI(step, "local_count");
        int c = AttrInt(step, "chunk"), o = AttrInt(step, "outliers"), nloc = AttrInt(step, "local_chunks");
        int S = _buffers.Dim(InName(step, "k_cache"), 2), capacity = _buffers.Dim(OutName(step, "landmarks"), 2);
        int outlierRows = _buffers.Dim(OutName(step, "outlier_k"), 2), localRows = _buffers.Dim(OutName(step, "local_k"), 2);
        int block = _hkv * S * _d;
        foreach (Run run in _runs)
        {
            int s = run.Slot;
            ChunkLayout layout = ChunkLayout.Plan(promptLen[s], c, nloc, o);
            int nl = layout.Landmarks, no = layout.Outliers;
            if (layout.TailLength > localRows || no * c > outlierRows || layout.Chunks > capacity)
            {
                throw new InvalidOperationException($"Slot {s}'s {promptLen[s]}-token prompt does not fit the ShadowKV buffers (tail {layout.TailLength} > {localRows} rows?).");
            }

            Span<float> keys = kCache.Slice(s * block, block), values = vCache.Slice(s * block, block);
            var outlierIds = new int[_hkv * no];
            var means = new float[_hkv * nl * _d];
            var meanIds = new int[_hkv * nl];
            ShadowKvKernels.Landmarks(keys, _hkv, S, _d, layout, outlierIds, means, meanIds);

            // The kernel packs heads densely; the plan's tables have capacity S/c per head.
            for (int h = 0; h < _hkv; h++)
            {
                int head = s * _hkv + h;
                means.AsSpan(h * nl * _d, nl * _d).CopyTo(landmarks.Slice(head * capacity * _d));
                meanIds.AsSpan(h * nl, nl).CopyTo(ids.Slice(head * capacity));
                ids.Slice(head * capacity + nl, capacity - nl).Fill(-1);
                counts[head] = nl;
                for (int row = 0; row < layout.TailLength; row++)
                {
                    int from = (h * S + layout.TailStart + row) * _d, to = (head * localRows + row) * _d;
                    keys.Slice(from, _d).CopyTo(localK.Slice(to, _d));
                    values.Slice(from, _d).CopyTo(localV.Slice(to, _d));
                }
            }

            int outlierBlock = _hkv * outlierRows * _d;
            ShadowKvKernels.GatherChunks(keys, S, _hkv, _d, c, outlierIds, no, outlierK.Slice(s * outlierBlock, outlierBlock), outlierRows);
            ShadowKvKernels.GatherChunks(values, S, _hkv, _d, c, outlierIds, no, outlierV.Slice(s * outlierBlock, outlierBlock), outlierRows);
            localCount[s] = layout.TailLength;
        }
    }

    // value_store[s, h, j] = v_cache[s, h, j·c … j·c + c − 1]: the prompt's whole chunks, chunk-major. On the CPU the
    // host store and the GPU-resident store are the same array; only the GPU cares where it lives.
    private void StoreValues(PlanStep step)
    {
        Span<float> vCache = InF(step, "v_cache"), store = OutF(step, "value_store");
        ReadOnlySpan<int> promptLen = InI(step, "prompt_len");
        int c = AttrInt(step, "chunk");
        string storeName = OutName(step, "value_store");
        int S = _buffers.Dim(InName(step, "v_cache"), 2), chunks = _buffers.Dim(storeName, 2);
        foreach (Run run in _runs)
        {
            int rows = Math.Min(promptLen[run.Slot] / c, chunks) * c;
            for (int h = 0; h < _hkv; h++)
            {
                int head = run.Slot * _hkv + h;
                vCache.Slice((head * S) * _d, rows * _d).CopyTo(store.Slice(head * chunks * c * _d));
            }
        }
    }
}
