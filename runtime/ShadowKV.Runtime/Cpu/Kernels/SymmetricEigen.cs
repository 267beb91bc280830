using System;
using System.Numerics.Tensors;

namespace ShadowKV.Runtime.Cpu.Kernels;

// Layout: the matrix is [n, n] row-major double; eigenvectors are returned as ROWS of [n, n] (row j is the
// eigenvector of eigenvalues[j]) because every update below then works on contiguous rows.

/// <summary>
/// Eigendecomposition of a real symmetric matrix in double: Householder reduction to tridiagonal form, then
/// the implicit-shift QL iteration. O(n³) with row-contiguous vector updates, about a second at n = 1024.
/// </summary>
public static class SymmetricEigen
{
    private const int MaxIterationsPerEigenvalue = 60;
    private const double MachineEpsilon = 2.220446049250313e-16; // 2^-52

    /// <summary>
    /// Decomposes matrix [n, n] (symmetric; only read) into eigenvalues [n] (unsorted) and eigenvectors [n, n]
    /// (row j pairs with eigenvalues[j], unit length, mutually orthogonal).
    /// </summary>
    public static void Decompose(ReadOnlySpan<double> matrix, int n, Span<double> eigenvalues, Span<double> eigenvectors)
    {
        if (matrix.Length < n * n || eigenvalues.Length < n || eigenvectors.Length < n * n)
        {
            throw new ArgumentException($"Symmetric eigen of n = {n} needs [{n}, {n}] matrix and vectors and [{n}] values.");
        }

        double[] work = matrix[..(n * n)].ToArray();
        var offDiagonal = new double[n];
        Span<double> basis = eigenvectors[..(n * n)];
        Tridiagonalize(work, n, eigenvalues[..n], offDiagonal, basis);
        TridiagonalQl(eigenvalues[..n], offDiagonal, basis, n);
    }

    // Householder step k zeroes row/column k beyond the sub-diagonal with H = I − β v vᵀ acting on indices
    // k+1 … n−1, so after n − 2 steps a = Qᵀ·A·Q is tridiagonal. basis accumulates Qᵀ = H_{n−3} … H_0 (rows).
    private static void Tridiagonalize(double[] a, int n, Span<double> diagonal, Span<double> offDiagonal, Span<double> basis)
    {
        basis.Clear();
        for (int i = 0; i < n; i++)
        {
            basis[i * n + i] = 1;
        }

        var p = new double[n];
        var z = new double[n];
        for (int k = 0; k + 2 < n; k++)
        {
            int m = n - k - 1;
            Span<double> v = a.AsSpan(k * n + k + 1, m); // row k beyond the diagonal becomes v in place
            double sigma = TensorPrimitives.Norm(v);
            diagonal[k] = a[k * n + k];
            if (sigma == 0)
            {
                offDiagonal[k] = 0;
                continue;
            }

            // alpha has the opposite sign of v[0] so v[0] − alpha never cancels.
            double alpha = v[0] >= 0 ? -sigma : sigma;
            v[0] -= alpha;
            double beta = 2 / TensorPrimitives.Dot<double>(v, v);
            offDiagonal[k] = alpha;

            // Trailing block A22 ← H A22 H = A22 − v wᵀ − w vᵀ with p = β A22 v and w = p − (β/2)(vᵀp) v.
            Span<double> ps = p.AsSpan(0, m);
            for (int i = 0; i < m; i++)
            {
                ps[i] = beta * TensorPrimitives.Dot<double>(a.AsSpan((k + 1 + i) * n + k + 1, m), v);
            }

            double half = beta / 2 * TensorPrimitives.Dot<double>(v, ps);
            TensorPrimitives.MultiplyAdd<double>(v, -half, ps, ps); // ps is now w
            for (int i = 0; i < m; i++)
            {
                Span<double> row = a.AsSpan((k + 1 + i) * n + k + 1, m);
                TensorPrimitives.MultiplyAdd<double>(ps, -v[i], row, row);
                TensorPrimitives.MultiplyAdd<double>(v, -ps[i], row, row);
            }

            // Qᵀ ← H_k Qᵀ on rows k+1 … n−1: z = vᵀ rows, rows −= β v_i z.
            Span<double> zs = z.AsSpan(0, n);
            zs.Clear();
            for (int i = 0; i < m; i++)
            {
                TensorPrimitives.MultiplyAdd<double>(basis.Slice((k + 1 + i) * n, n), v[i], zs, zs);
            }

            for (int i = 0; i < m; i++)
            {
                Span<double> row = basis.Slice((k + 1 + i) * n, n);
                TensorPrimitives.MultiplyAdd<double>(zs, -beta * v[i], row, row);
            }
        }

        if (n >= 2)
        {
            diagonal[n - 2] = a[(n - 2) * n + n - 2];
            offDiagonal[n - 2] = a[(n - 2) * n + n - 1];
        }

        diagonal[n - 1] = a[n * n - 1];
        offDiagonal[n - 1] = 0;
    }

    // Implicit QL with Wilkinson-like shifts on the tridiagonal (diagonal, offDiagonal[i] couples i and i+1).
    // Each plane rotation of columns i, i+1 of the eigenvector matrix is a rotation of rows i, i+1 of basis.
    private static void TridiagonalQl(Span<double> diagonal, double[] offDiagonal, Span<double> basis, int n)
    {
        var saved = new double[n];

        // An off-diagonal is negligible below ε·‖T‖: an absolute test, because a rank-deficient Gram matrix
        // has eigenvalues near 0 where a test relative to the neighbouring diagonal would never be met.
        double norm = 0;
        for (int i = 0; i < n; i++)
        {
            norm = Math.Max(norm, Math.Abs(diagonal[i]) + Math.Abs(offDiagonal[i]));
        }

        double negligible = MachineEpsilon * norm;
        for (int l = 0; l < n; l++)
        {
            for (int iteration = 0; ; iteration++)
            {
                // Find the first negligible off-diagonal at or after l: the block l … m is unreduced.
                int m = l;
                while (m < n - 1 && Math.Abs(offDiagonal[m]) > negligible)
                {
                    m++;
                }

                if (m == l)
                {
                    break;
                }

                if (iteration == MaxIterationsPerEigenvalue)
                {
                    throw new ArithmeticException($"Symmetric eigen: QL did not converge for eigenvalue {l} of n = {n}.");
                }

                // Shift from the leading 2×2 block's eigenvalue closer to diagonal[l].
                double g = (diagonal[l + 1] - diagonal[l]) / (2 * offDiagonal[l]);
                double r = Hypot(g, 1);
                g = diagonal[m] - diagonal[l] + offDiagonal[l] / (g + (g >= 0 ? r : -r));
                double s = 1, c = 1, shift = 0;
                int i = m - 1;
                bool deflated = false;
                for (; i >= l; i--)
                {
                    double f = s * offDiagonal[i], b = c * offDiagonal[i];
                    r = Hypot(f, g);
                    offDiagonal[i + 1] = r;
                    if (r == 0)
                    {
                        // Underflow split the block early: undo the partial shift and restart on the smaller block.
                        diagonal[i + 1] -= shift;
                        offDiagonal[m] = 0;
                        deflated = true;
                        break;
                    }

                    s = f / r;
                    c = g / r;
                    g = diagonal[i + 1] - shift;
                    r = (diagonal[i] - g) * s + 2 * c * b;
                    shift = s * r;
                    diagonal[i + 1] = g + shift;
                    g = c * r - b;
                    RotateRows(basis.Slice(i * n, n), basis.Slice((i + 1) * n, n), c, s, saved);
                }

                if (deflated)
                {
                    continue;
                }

                diagonal[l] -= shift;
                offDiagonal[l] = g;
                offDiagonal[m] = 0;
            }
        }
    }

    // rowI ← c·rowI − s·rowJ, rowJ ← s·rowI + c·rowJ (both from the old rows).
    private static void RotateRows(Span<double> rowI, Span<double> rowJ, double c, double s, double[] saved)
    {
        Span<double> oldJ = saved.AsSpan(0, rowJ.Length);
        rowJ.CopyTo(oldJ);
        TensorPrimitives.Multiply<double>(rowJ, c, rowJ);
        TensorPrimitives.MultiplyAdd<double>(rowI, s, rowJ, rowJ);
        TensorPrimitives.Multiply<double>(rowI, c, rowI);
        TensorPrimitives.MultiplyAdd<double>(oldJ, -s, rowI, rowI);
    }

    private static double Hypot(double x, double y)
    {
        // Scaled so that squaring neither overflows nor underflows.
        double ax = Math.Abs(x), ay = Math.Abs(y);
        double big = Math.Max(ax, ay), small = Math.Min(ax, ay);
        if (big == 0)
        {
            return 0;
        }

        double ratio = small / big;
        return big * Math.Sqrt(1 + ratio * ratio);
    }
}
