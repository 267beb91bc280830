using System.Buffers;
using System.Numerics.Tensors;
using ShadowKV.Compiler.Plans;
using ShadowKV.Runtime.Cpu.Kernels;

namespace ShadowKV.Runtime.Cpu;

// The dense ops of OpContracts. Layouts: activations token-major [T, width]; k/v caches [B, Hkv, S, d] post-RoPE,
// so one sequence's cache is the contiguous block [Hkv, S, d] the CpuKernels take.
public sealed partial class CpuBackend
{
    private void Embedding(PlanStep step)
    {
        Span<int> tokens = InI(step, "tokens");
        Span<float> table = InF(step, "table");
        int hidden = Width(OutName(step, "x"));
        int vocab = table.Length / hidden;
        foreach (int token in tokens)
        {
            if ((uint)token >= (uint)vocab)
            {
                throw new ArgumentOutOfRangeException(nameof(step), $"Token id {token} is outside the vocabulary of {vocab}.");
            }
        }

        CpuKernels.EmbeddingGather(tokens, table, hidden, OutF(step, "x"));
    }

    private void RmsNorm(PlanStep step) =>
        CpuKernels.RmsNorm(InF(step, "x"), InF(step, "weight"), AttrFloat(step, "eps"), OutF(step, "y"));

    // sum = x + residual (sum may be x itself), y = rms_norm(sum).
    private void AddRmsNorm(PlanStep step)
    {
        Span<float> sum = OutF(step, "sum");
        if (OutName(step, "sum") != InName(step, "x"))
        {
            InF(step, "x").CopyTo(sum);
        }

        CpuKernels.AddRmsNorm(sum, InF(step, "residual"), InF(step, "weight"), AttrFloat(step, "eps"), OutF(step, "y"));
    }

    // y[b] = x[rows[b]]; a slot without a row in this step (−1) gets zeros.
    private void GatherRows(PlanStep step)
    {
        Span<float> x = InF(step, "x"), y = OutF(step, "y");
        Span<int> rows = InI(step, "rows");
        int width = Width(OutName(step, "y"));
        for (int b = 0; b < rows.Length; b++)
        {
            Span<float> target = y.Slice(b * width, width);
            if (rows[b] < 0)
            {
                target.Clear();
            }
            else
            {
                x.Slice(rows[b] * width, width).CopyTo(target);
            }
        }
    }

    // y = x·Wᵀ (+ bias) (+ residual). The plan writes the residual add in place (y is the residual buffer), so the
    // product goes to a temporary first.
    private void Linear(PlanStep step)
    {
        string xName = InName(step, "x"), yName = OutName(step, "y"), residualName = InName(step, "residual");
        Span<float> x = InF(step, "x"), y = OutF(step, "y");
        int inFeatures = Width(xName), outFeatures = Width(yName);
        bool direct = residualName.Length == 0 && xName != yName;
        float[]? temporary = direct ? null : ArrayPool<float>.Shared.Rent(y.Length);
        Span<float> product = direct ? y : temporary.AsSpan(0, y.Length);
        CpuKernels.Linear(x, InF(step, "weight"), InF(step, "bias"), inFeatures, outFeatures, product);
        if (temporary is not null)
        {
            if (residualName.Length > 0)
            {
                TensorPrimitives.Add(product, Resolve(residualName), y);
            }
            else
            {
                product.CopyTo(y);
            }

            ArrayPool<float>.Shared.Return(temporary);
        }
    }

    private void SiluMul(PlanStep step) => CpuKernels.SiluMul(InF(step, "gate"), InF(step, "up"), OutF(step, "y"));

    private void RopeKvAppend(PlanStep step)
    {
        Span<float> k = RotatedQueryAndKeys(step, out _);
        Span<float> v = InF(step, "v");
        Span<float> kCache = OutF(step, "k_cache"), vCache = OutF(step, "v_cache");
        int S = _buffers.Dim(OutName(step, "k_cache"), 2), width = _hkv * _d, block = _hkv * S * _d;
        ReadOnlySpan<int> positions = InI(step, "positions");
        foreach (Run run in _runs)
        {
            CpuKernels.KvAppend(k.Slice(run.Row * width, run.Count * width), v.Slice(run.Row * width, run.Count * width), _hkv, _d,
                positions.Slice(run.Row, run.Count), kCache.Slice(run.Slot * block, block), vCache.Slice(run.Slot * block, block), S);
        }
    }

    // q_rot = rope(q) into the output; returns rope(k) in a step-owned copy (k itself is the pre-RoPE input other
    // ops, key_gram and key_projection, still read).
    private Span<float> RotatedQueryAndKeys(PlanStep step, out Span<float> qRot)
    {
        ReadOnlySpan<int> positions = InI(step, "positions");
        ReadOnlySpan<float> invFreq = InF(step, "inv_freq");
        qRot = OutF(step, "q_rot");
        InF(step, "q").CopyTo(qRot);
        CpuKernels.Rope(qRot, _hq, _d, positions, invFreq);
        Span<float> k = InF(step, "k");
        if (_rotatedKeys.Length < k.Length)
        {
            _rotatedKeys = new float[k.Length];
        }

        Span<float> rotated = _rotatedKeys.AsSpan(0, k.Length);
        k.CopyTo(rotated);
        CpuKernels.Rope(rotated, _hkv, _d, positions, invFreq);
        return rotated;
    }

    private float[] _rotatedKeys = [];

    // Causal attention per sequence: token at position p attends cache rows 0 … p of its own slot.
    private void FlashAttention(PlanStep step)
    {
        Span<float> q = InF(step, "q_rot"), y = OutF(step, "y");
        Span<float> kCache = InF(step, "k_cache"), vCache = InF(step, "v_cache");
        ReadOnlySpan<int> positions = InI(step, "positions");
        int S = _buffers.Dim(InName(step, "k_cache"), 2), block = _hkv * S * _d, width = _hq * _d;
        foreach (Run run in _runs)
        {
            CpuKernels.PrefillAttention(q.Slice(run.Row * width, run.Count * width), kCache.Slice(run.Slot * block, block),
                vCache.Slice(run.Slot * block, block), S, _hq, _hkv, _d, positions[run.Row], y.Slice(run.Row * width, run.Count * width));
        }
    }

    // One query per row over its sequence's cache rows 0 … context_len − 1.
    private void DecodeAttention(PlanStep step)
    {
        Span<float> q = InF(step, "q_rot"), y = OutF(step, "y");
        Span<float> kCache = InF(step, "k_cache"), vCache = InF(step, "v_cache");
        ReadOnlySpan<int> tokenSeq = InI(step, "token_seq"), contextLen = InI(step, "context_len");
        int S = _buffers.Dim(InName(step, "k_cache"), 2), block = _hkv * S * _d, width = _hq * _d;
        for (int row = 0; row < tokenSeq.Length; row++)
        {
            int s = tokenSeq[row];
            CpuKernels.DecodeAttention(q.Slice(row * width, width), kCache.Slice(s * block, block), vCache.Slice(s * block, block),
                S, contextLen[s], _hq, _hkv, _d, y.Slice(row * width, width));
        }
    }
}
