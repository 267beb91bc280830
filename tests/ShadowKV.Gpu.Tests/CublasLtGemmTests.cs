using System;
using System.Linq;
using ShadowKV.Gpu.Tests.Support;
using ShadowKV.Runtime.Cuda;

namespace ShadowKV.Gpu.Tests;

public sealed class CublasLtGemmTests(ITestOutputHelper output)
{
    // Inputs are exact bf16 values, so the CPU reference sees the same numbers. The GPU accumulates in fp32 (error
    // ~K·2⁻²⁴ relative to Σ|a·b|, i.e. ~1e-5 here) and rounds the output to bf16 (≤ 2⁻⁹ ≈ 0.2% relative).
    // Tolerance: 1% relative plus 1e-3·√K absolute for outputs that cancel to near zero.
    private const double RelativeTolerance = 1e-2;

    [GpuTheory]
    [InlineData(64, 96, 128)]   // prefill-like: every dimension different, so a transposition cannot pass
    [InlineData(1, 256, 512)]   // decode: one token
    [InlineData(37, 200, 72)]   // odd sizes
    public void Matches_the_cpu_reference(int m, int n, int k) =>
        Check(m, n, k, GemmEpilogue.None, beta: 0f, inPlace: false);

    [GpuFact]
    public void Adds_the_bias_and_the_residual_in_place() =>
        Check(48, 80, 64, GemmEpilogue.Bias, beta: 1f, inPlace: true);

    [GpuFact]
    public void Adds_a_residual_from_a_separate_c() =>
        Check(16, 64, 32, GemmEpilogue.None, beta: 1f, inPlace: false);

    private void Check(int m, int n, int k, GemmEpilogue epilogue, float beta, bool inPlace)
    {
        CudaDevice device = TestGpu.Device;
        ushort[] a = Bf16.Random(m * k, seed: 1), b = Bf16.Random(n * k, seed: 2), bias = Bf16.Random(n, seed: 3), c = Bf16.Random(m * n, seed: 4);
        using var lt = CublasLtHandle.Create(device);
        using var gemm = new CublasLtGemm(lt, m, n, k, epilogue, name: "test");
        using var arena = DeviceArena.Create(device, (8L << 20) + gemm.WorkspaceBytes, "gemm");
        using var stream = CudaStream.Create(device, "compute");
        DeviceBuffer da = arena.Allocate(a.Length * 2), db = arena.Allocate(b.Length * 2), dbias = arena.Allocate(n * 2);
        DeviceBuffer dc = arena.Allocate(c.Length * 2), dd = inPlace ? dc : arena.Allocate(m * n * 2);
        DeviceBuffer workspace = arena.Allocate(Math.Max(gemm.WorkspaceBytes, 1));
        stream.CopyToDevice<ushort>(da, a);
        stream.CopyToDevice<ushort>(db, b);
        stream.CopyToDevice<ushort>(dbias, bias);
        stream.CopyToDevice<ushort>(dc, c);

        gemm.Run(stream, da, db, dd, workspace,
            bias: epilogue == GemmEpilogue.Bias ? dbias : default, c: beta != 0 ? dc : default, beta: beta);
        var d = new ushort[m * n];
        stream.CopyToHost<ushort>(d, dd);
        stream.Synchronize();

        double absoluteTolerance = 1e-3 * Math.Sqrt(k);
        double worst = 0;
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double expected = 0;
                for (int p = 0; p < k; p++)
                {
                    expected += (double)Bf16.ToFloat(a[i * k + p]) * Bf16.ToFloat(b[j * k + p]);
                }

                expected += (epilogue == GemmEpilogue.Bias ? Bf16.ToFloat(bias[j]) : 0) + beta * Bf16.ToFloat(c[i * n + j]);
                double actual = Bf16.ToFloat(d[i * n + j]);
                double error = Math.Abs(actual - expected);
                worst = Math.Max(worst, error / (Math.Abs(expected) + absoluteTolerance));
                Assert.True(error <= RelativeTolerance * Math.Abs(expected) + absoluteTolerance,
                    $"D[{i},{j}] = {actual}, expected {expected} (M={m} N={n} K={k} {epilogue} beta={beta})");
            }
        }

        output.WriteLine($"M={m} N={n} K={k} {epilogue} beta={beta}: worst relative error {worst:E2}, workspace {gemm.WorkspaceBytes} B");
    }
}
