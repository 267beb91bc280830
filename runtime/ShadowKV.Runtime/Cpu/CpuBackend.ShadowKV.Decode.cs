using ShadowKV.Compiler.Plans;
using ShadowKV.Runtime.Cpu.Kernels;

namespace ShadowKV.Runtime.Cpu;

// The ShadowKV selection and decode ops (SHADOWKV.md "Decode"). q [B, Hq·d] indexed by slot (decode rows are slots;
// prefill's warm start gathers each sequence's last query). Scores [B, Hkv, S/c]; selected, slot_chunk, misses
// [B, Hkv, k]; working set work_k/work_v [B, Hkv, k·c, d] (slot i holds chunk slot_chunk[s, h, i], −1 = empty);
// generated region gen_k/gen_v [B, Hkv, max_new, d] at row pos − prompt_len.
public sealed partial class CpuBackend
{
    private void RopeAppendGenerated(PlanStep step)
    {
        Span<float> k = RotatedQueryAndKeys(step, out _);
        Span<float> v = InF(step, "v"), genK = OutF(step, "gen_k"), genV = OutF(step, "gen_v");
        ReadOnlySpan<int> positions = InI(step, "positions"), tokenSeq = InI(step, "token_seq"), promptLen = InI(step, "prompt_len");
        int maxNew = _buffers.Dim(OutName(step, "gen_k"), 2), width = _hkv * _d;
        for (int row = 0; row < tokenSeq.Length; row++)
        {
            int s = tokenSeq[row], g = positions[row] - promptLen[s];
            if ((uint)g >= (uint)maxNew)
            {
                throw new InvalidOperationException($"Slot {s}: generated token {g} (position {positions[row]}, prompt {promptLen[s]}) is outside the {maxNew}-token generated region.");
            }

            for (int h = 0; h < _hkv; h++)
            {
                int to = ((s * _hkv + h) * maxNew + g) * _d;
                k.Slice(row * width + h * _d, _d).CopyTo(genK.Slice(to, _d));
                v.Slice(row * width + h * _d, _d).CopyTo(genV.Slice(to, _d));
            }
        }
    }

    // Max over the G query heads of each KV head of softmax_j(q·landmark_j / √d), per active slot.
    private void LandmarkScores(PlanStep step)
    {
        Span<float> q = InF(step, "q_rot"), landmarks = InF(step, "landmarks"), scores = OutF(step, "scores");
        ReadOnlySpan<int> counts = InI(step, "landmark_count");
        int capacity = _buffers.Dim(InName(step, "landmarks"), 2), g = _hq / _hkv;
        foreach (Run run in _runs)
        {
            for (int h = 0; h < _hkv; h++)
            {
                int head = run.Slot * _hkv + h, nL = counts[head];
                if (nL > 0)
                {
                    ShadowKvKernels.LandmarkScores(q.Slice((run.Slot * _hq + h * g) * _d, g * _d), landmarks.Slice(head * capacity * _d, nL * _d),
                        g, 1, _d, nL, scores.Slice(head * capacity, nL));
                }
            }
        }
    }

    // The k best chunk ids per KV head (ties → lower id), ascending, −1 pads when fewer than k landmarks exist.
    private void TopKChunks(PlanStep step)
    {
        Span<float> scores = InF(step, "scores");
        ReadOnlySpan<int> ids = InI(step, "landmark_ids"), counts = InI(step, "landmark_count");
        Span<int> selected = OutI(step, "selected");
        int k = AttrInt(step, "budget_chunks"), capacity = _buffers.Dim(InName(step, "scores"), 2);
        foreach (Run run in _runs)
        {
            for (int h = 0; h < _hkv; h++)
            {
                int head = run.Slot * _hkv + h, nL = counts[head];
                Span<int> chosen = selected.Slice(head * k, k);
                int kept = ShadowKvKernels.TopKChunks(scores.Slice(head * capacity, nL), ids.Slice(head * capacity, nL), 1, nL, k, chosen);
                chosen[kept..].Fill(-1);
            }
        }
    }

    // Working slots: a slot whose chunk stays selected keeps it (a hit: its rebuilt keys and fetched values stay);
    // slots whose chunk left the selection are freed; each newly selected chunk takes the lowest free slot and is
    // listed in misses (slot indices, ascending) for rebuild and fetch.
    private void SelectionDiff(PlanStep step)
    {
        ReadOnlySpan<int> selected = InI(step, "selected");
        Span<int> previous = InI(step, "slot_chunk"), next = OutI(step, "slot_chunk_next");
        Span<int> misses = OutI(step, "misses"), missCount = OutI(step, "miss_count");
        int k = _buffers.Dim(InName(step, "selected"), 2);
        Span<int> slots = stackalloc int[k];
        foreach (Run run in _runs)
        {
            for (int h = 0; h < _hkv; h++)
            {
                int head = run.Slot * _hkv + h;
                ReadOnlySpan<int> now = selected.Slice(head * k, k);
                previous.Slice(head * k, k).CopyTo(slots);
                for (int i = 0; i < k; i++)
                {
                    if (slots[i] >= 0 && !now.Contains(slots[i]))
                    {
                        slots[i] = -1;
                    }
                }

                int miss = 0;
                foreach (int chunk in now)
                {
                    if (chunk < 0 || slots.Contains(chunk))
                    {
                        continue;
                    }

                    int free = slots.IndexOf(-1);
                    slots[free] = chunk;
                    misses[head * k + miss++] = free;
                }

                misses.Slice(head * k + miss, k - miss).Fill(-1);
                missCount[head] = miss;
                slots.CopyTo(next.Slice(head * k, k));
            }
        }
    }

    // For each missed slot: rows t of its chunk get key = rope(lowrank[s, t]·basis[s][:, h·d …], t).
    private void RebuildKeysRope(PlanStep step)
    {
        ReadOnlySpan<int> misses = InI(step, "misses"), missCount = InI(step, "miss_count"), slotChunk = InI(step, "slot_chunk_next");
        Span<float> lowrank = InF(step, "lowrank"), basis = InF(step, "basis"), invFreq = InF(step, "inv_freq"), workK = OutF(step, "work_k");
        int c = AttrInt(step, "chunk"), k = _buffers.Dim(InName(step, "misses"), 2);
        string lowrankName = InName(step, "lowrank");
        int S = _buffers.Dim(lowrankName, 1), r = _buffers.Dim(lowrankName, 2), D = _hkv * _d, rows = k * c;
        Span<float> cos = stackalloc float[_d / 2], sin = stackalloc float[_d / 2];
        foreach (Run run in _runs)
        {
            int s = run.Slot;
            for (int h = 0; h < _hkv; h++)
            {
                int head = s * _hkv + h;
                for (int m = 0; m < missCount[head]; m++)
                {
                    int slot = misses[head * k + m], chunk = slotChunk[head * k + slot];
                    for (int row = 0; row < c; row++)
                    {
                        int t = chunk * c + row;
                        Span<float> key = workK.Slice((head * rows + slot * c + row) * _d, _d);
                        key.Clear();
                        for (int l = 0; l < r; l++)
                        {
                            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(basis.Slice((s * r + l) * D + h * _d, _d), lowrank[(s * S + t) * r + l], key, key);
                        }

                        CpuKernels.RopeAngles(t, invFreq, 1f, cos, sin);
                        CpuKernels.RotateHalf(key, cos, sin);
                    }
                }
            }
        }
    }

    private void FetchValues(PlanStep step)
    {
        ReadOnlySpan<int> misses = InI(step, "misses"), missCount = InI(step, "miss_count"), slotChunk = InI(step, "slot_chunk_next");
        Span<float> store = InF(step, "value_store"), workV = OutF(step, "work_v");
        int c = AttrInt(step, "chunk"), k = _buffers.Dim(InName(step, "misses"), 2);
        int chunks = _buffers.Dim(InName(step, "value_store"), 2), chunkFloats = c * _d;
        foreach (Run run in _runs)
        {
            for (int h = 0; h < _hkv; h++)
            {
                int head = run.Slot * _hkv + h;
                for (int m = 0; m < missCount[head]; m++)
                {
                    int slot = misses[head * k + m], chunk = slotChunk[head * k + slot];
                    store.Slice((head * chunks + chunk) * chunkFloats, chunkFloats).CopyTo(workV.Slice((head * k + slot) * chunkFloats, chunkFloats));
                }
            }
        }
    }
}
