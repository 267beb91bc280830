using System;
using System.Linq;
using System.Numerics.Tensors;

namespace ShadowKV.Runtime.Cpu.Kernels;

// Layout: pre-RoPE keys of one layer and one sequence K [S, D] with D = Hkv·d (KV heads side by side, head h
// in columns h·d … h·d + d − 1). Factors A [S, r] and B [r, D] with K ≈ A·B; B = Ψᵀ, Ψ the top-r eigenvectors
// of the Gram matrix KᵀK [D, D] (double), so A = K·Ψ. Eigenvector signs are fixed (largest-|component| > 0)
// so the factors are deterministic across runs and backends.

/// <summary>The ShadowKV operators on the CPU (see SHADOWKV.md); float32 activations, double where it decides structure.</summary>
public static unsafe partial class ShadowKvKernels
{
    /// <summary>The rank actually used: min(rank, D, S). Rank must be positive.</summary>
    public static int EffectiveRank(int S, int D, int rank)
    {
        if (rank <= 0 || S <= 0 || D <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(rank), $"Low-rank keys need rank, S and D > 0 (rank = {rank}, S = {S}, D = {D}).");
        }

        return Math.Min(rank, Math.Min(D, S));
    }

    /// <summary>
    /// gram [D, D] += Kᵀ·K over the rows of kPre [n, D], accumulated in double (each float product is exact in
    /// double). Chunked prefill calls this once per chunk and factorises at the end.
    /// </summary>
    public static void AccumulateKeyGram(ReadOnlySpan<float> kPre, int D, Span<double> gram)
    {
        const int RowBlock = 256;
        int rows = kPre.Length / D;
        if (gram.Length < D * D)
        {
            throw new ArgumentException($"gram holds {gram.Length} elements; [{D}, {D}] needs {D * D}.", nameof(gram));
        }

        var columns = new double[D * Math.Min(RowBlock, Math.Max(rows, 1))]; // [D, rowsInBlock]: a transposed block
        fixed (double* pg = gram, pc = columns)
        {
            double* gs = pg, cs = pc;
            for (int r0 = 0; r0 < rows; r0 += RowBlock)
            {
                int nb = Math.Min(RowBlock, rows - r0);
                for (int t = 0; t < nb; t++)
                {
                    ReadOnlySpan<float> row = kPre.Slice((r0 + t) * D, D);
                    for (int i = 0; i < D; i++)
                    {
                        cs[i * nb + t] = row[i];
                    }
                }

                // Upper triangle only; row i costs D − i dots, so small blocks keep the workers balanced.
                Parallelism.For(D, 8, (long)D * nb / 2, (start, end) =>
                {
                    for (int i = start; i < end; i++)
                    {
                        var ci = new ReadOnlySpan<double>(cs + (long)i * nb, nb);
                        for (int j = i; j < D; j++)
                        {
                            gs[(long)i * D + j] += TensorPrimitives.Dot(ci, new ReadOnlySpan<double>(cs + (long)j * nb, nb));
                        }
                    }
                });
            }

            for (int i = 0; i < D; i++)
            {
                for (int j = i + 1; j < D; j++)
                {
                    gs[(long)j * D + i] = gs[(long)i * D + j];
                }
            }
        }
    }

    /// <summary>
    /// Rank-r factorisation K ≈ A·B of pre-RoPE keys kPre [S, D]. Returns the rank used, min(rank, D, S);
    /// a [S, r] and b [r, D] must hold at least that rank. eigenvalues, if given, receives all D eigenvalues of
    /// KᵀK in descending order (their tail beyond r is the squared Frobenius error of the approximation).
    /// </summary>
    public static int LowRankKeys(ReadOnlySpan<float> kPre, int S, int D, int rank, Span<float> a, Span<float> b, Span<double> eigenvalues = default)
    {
        CpuKernelsShapes.Require(kPre.Length >= (long)S * D, nameof(kPre), $"[{S}, {D}]");
        var gram = new double[D * D];
        AccumulateKeyGram(kPre[..(S * D)], D, gram);
        return LowRankFromGram(gram, kPre, S, D, rank, a, b, eigenvalues);
    }

    /// <summary>The second half of <see cref="LowRankKeys"/>: factors from an accumulated gram [D, D] and kPre [S, D].</summary>
    public static int LowRankFromGram(ReadOnlySpan<double> gram, ReadOnlySpan<float> kPre, int S, int D, int rank,
        Span<float> a, Span<float> b, Span<double> eigenvalues = default)
    {
        int r = EffectiveRank(S, D, rank);
        CpuKernelsShapes.Require(a.Length >= (long)S * r, nameof(a), $"[{S}, {r}]");
        CpuKernelsShapes.Require(b.Length >= (long)r * D, nameof(b), $"[{r}, {D}]");
        var values = new double[D];
        var vectors = new double[D * D]; // rows are eigenvectors
        SymmetricEigen.Decompose(gram, D, values, vectors);

        // Descending eigenvalue; equal values keep the solver's order so the choice is deterministic.
        int[] order = Enumerable.Range(0, D).ToArray();
        Array.Sort(order, (x, y) => values[x] != values[y] ? values[y].CompareTo(values[x]) : x.CompareTo(y));
        if (!eigenvalues.IsEmpty)
        {
            for (int j = 0; j < Math.Min(D, eigenvalues.Length); j++)
            {
                eigenvalues[j] = values[order[j]];
            }
        }

        for (int j = 0; j < r; j++)
        {
            ReadOnlySpan<double> psi = vectors.AsSpan(order[j] * D, D);
            double sign = psi[LargestMagnitude(psi)] < 0 ? -1 : 1;
            Span<float> bRow = b.Slice(j * D, D);
            for (int i = 0; i < D; i++)
            {
                bRow[i] = (float)(sign * psi[i]);
            }
        }

        // A = K·Ψ = K·Bᵀ: exactly a Linear with B as the [out = r, in = D] weight.
        CpuKernels.Linear(kPre[..(S * D)], b[..(r * D)], default, D, r, a[..(S * r)]);
        return r;
    }

    // First index of the largest |component| (ties go to the lower index, so the sign rule is well defined).
    private static int LargestMagnitude(ReadOnlySpan<double> v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++)
        {
            if (Math.Abs(v[i]) > Math.Abs(v[best]))
            {
                best = i;
            }
        }

        return best;
    }
}

internal static class CpuKernelsShapes
{
    public static void Require(bool condition, string name, string shape)
    {
        if (!condition)
        {
            throw new ArgumentException($"'{name}' is too small for its shape {shape}.", name);
        }
    }
}
