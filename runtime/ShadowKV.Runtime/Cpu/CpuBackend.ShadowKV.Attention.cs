using ShadowKV.Compiler.Plans;
using ShadowKV.Runtime.Cpu.Kernels;

namespace ShadowKV.Runtime.Cpu;

public sealed partial class CpuBackend
{
    private float[] _sparseKeys = [], _sparseValues = [];

    // Exact attention of each decode query over [local tail | outliers | occupied working slots | generated tokens] of
    // its KV head. The op has no outlier count: it follows from prompt_len as the landmarks op cut it
    // (ChunkLayout.Plan with the plan's c, nloc, o). Generated tokens: context_len − prompt_len, the current included.
    private void SparseAttention(PlanStep step)
    {
        Span<float> q = InF(step, "q_rot"), y = OutF(step, "y");
        Span<float> localK = InF(step, "local_k"), localV = InF(step, "local_v");
        Span<float> outlierK = InF(step, "outlier_k"), outlierV = InF(step, "outlier_v");
        Span<float> workK = InF(step, "work_k"), workV = InF(step, "work_v"), genK = InF(step, "gen_k"), genV = InF(step, "gen_v");
        ReadOnlySpan<int> localCount = InI(step, "local_count"), slotChunk = InI(step, "slot_chunk_next");
        ReadOnlySpan<int> contextLen = InI(step, "context_len"), promptLen = InI(step, "prompt_len"), tokenSeq = _batch.TokenSeq;
        int c = Sym("c"), o = Sym("o"), nloc = Sym("nloc"), g = _hq / _hkv;
        int localRows = _buffers.Dim(InName(step, "local_k"), 2), outlierRows = _buffers.Dim(InName(step, "outlier_k"), 2);
        int k = _buffers.Dim(InName(step, "slot_chunk_next"), 2), workRows = _buffers.Dim(InName(step, "work_k"), 2);
        int maxNew = _buffers.Dim(InName(step, "gen_k"), 2);
        int capacity = localRows + outlierRows + workRows + maxNew;
        if (_sparseKeys.Length < capacity * _d)
        {
            _sparseKeys = new float[capacity * _d];
            _sparseValues = new float[capacity * _d];
        }

        for (int row = 0; row < tokenSeq.Length; row++)
        {
            int s = tokenSeq[row], generated = contextLen[s] - promptLen[s];
            int outliers = ChunkLayout.Plan(promptLen[s], c, nloc, o).Outliers * c;
            if (generated <= 0 || generated > maxNew || localCount[s] > localRows)
            {
                throw new InvalidOperationException($"Slot {s}: {generated} generated tokens and {localCount[s]} local rows do not fit the plan's regions ({maxNew}, {localRows}).");
            }

            for (int h = 0; h < _hkv; h++)
            {
                int head = s * _hkv + h, n = 0;
                void Append(Span<float> keys, Span<float> values, int firstRow, int count, int rowsPerHead)
                {
                    int from = (head * rowsPerHead + firstRow) * _d;
                    keys.Slice(from, count * _d).CopyTo(_sparseKeys.AsSpan(n * _d));
                    values.Slice(from, count * _d).CopyTo(_sparseValues.AsSpan(n * _d));
                    n += count;
                }

                Append(localK, localV, 0, localCount[s], localRows);
                Append(outlierK, outlierV, 0, outliers, outlierRows);
                for (int slot = 0; slot < k; slot++)
                {
                    if (slotChunk[head * k + slot] >= 0)
                    {
                        Append(workK, workV, slot * c, c, workRows);
                    }
                }

                Append(genK, genV, 0, generated, maxNew);
                ShadowKvKernels.SparseAttention(q.Slice((row * _hq + h * g) * _d, g * _d), g, 1, _d,
                    _sparseKeys, _sparseValues, n, n, default, default, 0, y.Slice((row * _hq + h * g) * _d, g * _d));
            }
        }
    }
}
