using System;
using System.Linq;
using ShadowKV.Gpu.Tests.Support;
using ShadowKV.Runtime.Cuda;

namespace ShadowKV.Gpu.Tests;

public sealed class SymmetricEigensolverTests(ITestOutputHelper output)
{
    [GpuTheory]
    [InlineData(64)]
    [InlineData(160)] // the ShadowKV rank-160 scale
    public void Eigenpairs_satisfy_A_v_equals_lambda_v(int n)
    {
        CudaDevice device = TestGpu.Device;
        var random = new Random(n);
        var a = new float[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j <= i; j++)
            {
                a[i * n + j] = a[j * n + i] = (float)(random.NextDouble() * 2 - 1);
            }
        }

        using var solver = new SymmetricEigensolver(device, n);
        using var arena = DeviceArena.Create(device, (long)n * n * 4 + n * 4 + solver.WorkspaceBytes + 3 * DeviceArena.Alignment, "eigen");
        using var stream = CudaStream.Create(device, "compute");
        DeviceBuffer matrix = arena.Allocate((long)n * n * 4), values = arena.Allocate(n * 4), workspace = arena.Allocate(solver.WorkspaceBytes);
        stream.CopyToDevice<float>(matrix, a);

        solver.Solve(stream, matrix, values, workspace);
        solver.ThrowIfFailed(stream, workspace);
        var vectors = new float[n * n];
        var lambda = new float[n];
        stream.CopyToHost<float>(vectors, matrix);
        stream.CopyToHost<float>(lambda, values);
        stream.Synchronize();

        // fp32 backward error of a symmetric eigensolver is O(n·ε·‖A‖); with ‖A‖₂ ≤ ‖A‖_F and ε = 2⁻²⁴,
        // 1e-4·‖A‖_F leaves a wide margin for n ≤ 160 while a wrong layout (columns read as rows) fails by O(‖A‖).
        double frobenius = Math.Sqrt(Array.ConvertAll(a, x => (double)x * x).Sum());
        double worst = 0;
        for (int e = 0; e < n; e++)
        {
            if (e > 0)
            {
                Assert.True(lambda[e - 1] <= lambda[e], "eigenvalues are ascending");
            }

            double residual = 0, norm = 0;
            for (int i = 0; i < n; i++)
            {
                double av = 0;
                for (int j = 0; j < n; j++)
                {
                    av += (double)a[i * n + j] * vectors[e * n + j]; // row e of the output is eigenvector e
                }

                double r = av - (double)lambda[e] * vectors[e * n + i];
                residual += r * r;
                norm += (double)vectors[e * n + i] * vectors[e * n + i];
            }

            worst = Math.Max(worst, Math.Sqrt(residual) / frobenius);
            Assert.True(Math.Sqrt(residual) <= 1e-4 * frobenius, $"‖A·v{e} − λ{e}·v{e}‖ = {Math.Sqrt(residual)} (‖A‖_F = {frobenius})");
            Assert.Equal(1.0, Math.Sqrt(norm), tolerance: 1e-4); // orthonormal columns
        }

        output.WriteLine($"n={n}: worst residual / ‖A‖_F = {worst:E2}, workspace {solver.WorkspaceBytes} B");
    }
}
