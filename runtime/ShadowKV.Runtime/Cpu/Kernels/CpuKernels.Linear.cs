using System;
using System.Numerics.Tensors;

namespace ShadowKV.Runtime.Cpu.Kernels;

// Layout: x [T, in] token-major; W [out, in] row-major as Hugging Face stores nn.Linear; y [T, out].

public static unsafe partial class CpuKernels
{
    // Tile of the output handled by one work item. 16 tokens × 64 rows: a weight row (≤ 16 KiB at in = 4096)
    // is reused by 16 tokens while it sits in L1, and the 16 input rows stay in L2 across the 64 weight rows.
    private const int LinearTokenTile = 16;
    private const int LinearRowTile = 64;

    /// <summary>
    /// y = x · Wᵀ (+ bias). x [T, in], weight [out, in], bias [out] or empty, y [T, out] (must not alias x).
    /// Work is split into tiles of tokens × output rows, so prefill (large T) and decode (T = 1) both use every core;
    /// each tile runs the register-blocked <see cref="Gemm"/> micro-kernel.
    /// </summary>
    public static void Linear(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int inFeatures, int outFeatures, Span<float> y)
    {
        if (weight.Length != (long)inFeatures * outFeatures)
        {
            throw new ArgumentException($"weight holds {weight.Length} elements; [{outFeatures}, {inFeatures}] needs {(long)inFeatures * outFeatures}.", nameof(weight));
        }

        if (!bias.IsEmpty && bias.Length != outFeatures)
        {
            throw new ArgumentException($"bias holds {bias.Length} elements; expected {outFeatures} or none.", nameof(bias));
        }

        int tokens = x.Length / inFeatures;
        RequireLength(y, (long)tokens * outFeatures, nameof(y));
        int tokenTiles = (tokens + LinearTokenTile - 1) / LinearTokenTile;
        int rowTiles = (outFeatures + LinearRowTile - 1) / LinearRowTile;
        bool hasBias = !bias.IsEmpty;
        fixed (float* px = x, pw = weight, pb = bias, py = y)
        {
            float* xs = px, ws = pw, bs = pb, ys = py;
            Parallelism.For(tokenTiles * rowTiles, 1, (long)LinearTokenTile * LinearRowTile * inFeatures, (start, end) =>
            {
                for (int tile = start; tile < end; tile++)
                {
                    int t0 = tile / rowTiles * LinearTokenTile, t1 = Math.Min(tokens, t0 + LinearTokenTile);
                    int o0 = tile % rowTiles * LinearRowTile, o1 = Math.Min(outFeatures, o0 + LinearRowTile);
                    Gemm.MultiplyTransposed(xs + (long)t0 * inFeatures, inFeatures, ws + (long)o0 * inFeatures, inFeatures,
                        hasBias ? bs + o0 : null, ys + (long)t0 * outFeatures + o0, outFeatures, t1 - t0, o1 - o0, inFeatures);
                }
            });
        }
    }
}
