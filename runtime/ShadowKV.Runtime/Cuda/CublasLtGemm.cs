using System;
using ShadowKV.Runtime.Interop;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;

namespace ShadowKV.Runtime.Cuda;

/// <summary>Element type of a GEMM's output D (and of C, which has D's layout). A and B are always bf16.</summary>
public enum GemmOutputType
{
    /// <summary>bf16 output (one rounding after the fp32 accumulation).</summary>
    BFloat16,

    /// <summary>fp32 output: the plan's linear layers write f32 activations (the residual stream is f32).</summary>
    Float32,
}

/// <summary>What cuBLASLt adds after the product.</summary>
public enum GemmEpilogue
{
    None,

    /// <summary>Adds bias[N] to every row of the row-major output (Qwen2's q/k/v bias).</summary>
    Bias,
}

/// <summary>
/// One planned bf16 GEMM in row-major terms: D[M,N] = alpha · A[M,K] · B[N,K]ᵀ (+ bias[N]) + beta · C[M,N], with
/// fp32 accumulation, bf16 inputs and a bf16 or fp32 output (<see cref="GemmOutputType"/>; C has D's type, and so
/// does the bias). B is a weight in PyTorch's nn.Linear layout [out, in], so
/// this is exactly <c>F.linear(A, B, bias)</c>. A residual add is beta = 1 with C = the residual (C may equal D).
/// Descriptors and the algorithm are chosen once, at construction; <see cref="Run"/> only enqueues.
/// </summary>
/// <remarks>
/// cuBLASLt is column-major. A row-major matrix X[r, c] with row stride ld is, byte for byte, the column-major
/// matrix Xᵀ (c × r, leading dimension ld). So instead of D = A·Bᵀ we ask cuBLASLt for Dᵀ = B·Aᵀ:
/// its "A" is our B stored as K × N (ld = ldb) with op T, its "B" is our A stored as K × M (ld = lda) with op N,
/// and its output is N × M (ld = ldd), which read back row-major is our D[M,N]. The bias epilogue adds a vector
/// with one value per row of cuBLASLt's output, i.e. per column N of ours. This "TN" form is also the layout
/// cuBLASLt supports for every data type on Hopper.
/// Not thread-safe: <see cref="Run"/> updates the bias pointer in the shared descriptor.
/// </remarks>
public sealed unsafe class CublasLtGemm : IDisposable
{
    /// <summary>cuBLAS's recommended workspace for Hopper (32 MiB).</summary>
    public const long DefaultMaxWorkspaceBytes = 32L << 20;

    private const int Bf16Bytes = 2;

    private readonly CublasLtHandle lt;
    private readonly CublasLtMatmulAlgo algo;
    private readonly int lda;
    private readonly int ldb;
    private readonly int ldd;
    private nint matmul;
    private nint layoutA;
    private nint layoutB;
    private nint layoutD;

    /// <param name="lda">Row stride of A in elements (≥ K); K when null. Likewise ldb (≥ K) and ldd (≥ N, also C's).</param>
    /// <param name="pointerAlignment">Alignment every pointer passed to <see cref="Run"/> will have; 256 for arena
    /// slices. Smaller values admit fewer algorithms.</param>
    public CublasLtGemm(
        CublasLtHandle lt, int m, int n, int k, GemmEpilogue epilogue = GemmEpilogue.None,
        long maxWorkspaceBytes = DefaultMaxWorkspaceBytes, int? lda = null, int? ldb = null, int? ldd = null,
        int pointerAlignment = DeviceArena.Alignment, string name = "gemm", GemmOutputType output = GemmOutputType.BFloat16)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(m);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        this.lt = lt;
        (M, N, K, Epilogue, Name, PointerAlignment, Output) = (m, n, k, epilogue, name, pointerAlignment, output);
        CudaDataType outputType = output == GemmOutputType.Float32 ? CudaDataType.R32F : CudaDataType.R16BF;
        this.lda = lda ?? k;
        this.ldb = ldb ?? k;
        this.ldd = ldd ?? n;
        if (this.lda < k || this.ldb < k || this.ldd < n)
        {
            throw new ArgumentException($"GEMM '{name}': row strides (lda {this.lda}, ldb {this.ldb}, ldd {this.ldd}) must cover K={k} and N={n}.");
        }

        lt.Device.MakeCurrent();
        try
        {
            Check(CublasLt.cublasLtMatmulDescCreate(out matmul, CublasComputeType.Compute32F, CudaDataType.R32F));
            SetAttribute(CublasLtMatmulDescAttribute.TransA, (int)CublasOperation.T);
            SetAttribute(CublasLtMatmulDescAttribute.TransB, (int)CublasOperation.N);
            SetAttribute(CublasLtMatmulDescAttribute.Epilogue, (uint)(epilogue == GemmEpilogue.Bias ? CublasLtEpilogue.Bias : CublasLtEpilogue.Default));
            if (epilogue == GemmEpilogue.Bias)
            {
                // The default (-1) already means "type of D"; stated explicitly so the bias type is visible here.
                SetAttribute(CublasLtMatmulDescAttribute.BiasDataType, (int)outputType);
            }

            Check(CublasLt.cublasLtMatrixLayoutCreate(out layoutA, CudaDataType.R16BF, (ulong)k, (ulong)n, this.ldb));
            Check(CublasLt.cublasLtMatrixLayoutCreate(out layoutB, CudaDataType.R16BF, (ulong)k, (ulong)m, this.lda));
            Check(CublasLt.cublasLtMatrixLayoutCreate(out layoutD, outputType, (ulong)n, (ulong)m, this.ldd));
            (algo, WorkspaceBytes) = ChooseAlgorithm(maxWorkspaceBytes, pointerAlignment);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public int M { get; }

    public int N { get; }

    public int K { get; }

    public GemmEpilogue Epilogue { get; }

    public GemmOutputType Output { get; }

    private int OutputBytes => Output == GemmOutputType.Float32 ? sizeof(float) : Bf16Bytes;

    public string Name { get; }

    public int PointerAlignment { get; }

    /// <summary>Workspace the chosen algorithm needs (≤ the maximum given); pass at least this much to <see cref="Run"/>.</summary>
    public long WorkspaceBytes { get; }

    /// <summary>Enqueues D = alpha·A·Bᵀ (+bias) + beta·C on <paramref name="stream"/>. Capturable in a CUDA graph.</summary>
    /// <param name="a">[M, K] bf16 (row stride lda).</param>
    /// <param name="b">[N, K] bf16 (row stride ldb): the weight.</param>
    /// <param name="d">[M, N] of <see cref="Output"/>'s type (row stride ldd): the output.</param>
    /// <param name="bias">[N] of D's type; required with <see cref="GemmEpilogue.Bias"/>.</param>
    /// <param name="c">[M, N] like D; required when beta ≠ 0 (may be D itself for an in-place residual add).</param>
    public void Run(
        CudaStream stream, DeviceBuffer a, DeviceBuffer b, DeviceBuffer d, DeviceBuffer workspace,
        DeviceBuffer bias = default, DeviceBuffer c = default, float alpha = 1f, float beta = 0f)
    {
        ObjectDisposedException.ThrowIf(matmul == 0, this);
        Require(a, ((long)(M - 1) * lda + K) * Bf16Bytes, "A");
        Require(b, ((long)(N - 1) * ldb + K) * Bf16Bytes, "B");
        Require(d, ((long)(M - 1) * ldd + N) * OutputBytes, "D");
        workspace.RequireBytes(WorkspaceBytes, $"{Name} workspace");
        if (beta != 0f)
        {
            Require(c, d.Bytes, "C (beta ≠ 0)");
        }

        if (Epilogue == GemmEpilogue.Bias)
        {
            Require(bias, (long)N * OutputBytes, "bias");
            SetAttribute(CublasLtMatmulDescAttribute.BiasPointer, bias.Pointer);
        }

        ulong cPointer = c.IsNull ? d.Pointer : c.Pointer; // with beta = 0, C is not read
        CublasLtMatmulAlgo chosen = algo;
        stream.Device.MakeCurrent();
        CublasException.ThrowIfFailed(
            CublasLt.cublasLtMatmul(
                lt.Handle, matmul, &alpha, b.Pointer, layoutA, a.Pointer, layoutB, &beta, cPointer, layoutD, d.Pointer, layoutD,
                &chosen, workspace.IsNull ? 0 : workspace.Pointer, (nuint)workspace.Bytes, stream.Handle),
            Describe());
    }

    public void Dispose()
    {
        if (layoutA != 0) { CublasLt.cublasLtMatrixLayoutDestroy(layoutA); layoutA = 0; }
        if (layoutB != 0) { CublasLt.cublasLtMatrixLayoutDestroy(layoutB); layoutB = 0; }
        if (layoutD != 0) { CublasLt.cublasLtMatrixLayoutDestroy(layoutD); layoutD = 0; }
        if (matmul != 0) { CublasLt.cublasLtMatmulDescDestroy(matmul); matmul = 0; }
    }

    private (CublasLtMatmulAlgo Algo, long WorkspaceBytes) ChooseAlgorithm(long maxWorkspaceBytes, int pointerAlignment)
    {
        Check(CublasLt.cublasLtMatmulPreferenceCreate(out nint preference));
        try
        {
            ulong workspace = (ulong)maxWorkspaceBytes;
            Check(CublasLt.cublasLtMatmulPreferenceSetAttribute(preference, CublasLtPreferenceAttribute.MaxWorkspaceBytes, &workspace, sizeof(ulong)));
            uint alignment = (uint)pointerAlignment;
            foreach (CublasLtPreferenceAttribute attribute in (ReadOnlySpan<CublasLtPreferenceAttribute>)
                     [CublasLtPreferenceAttribute.MinAlignmentA, CublasLtPreferenceAttribute.MinAlignmentB, CublasLtPreferenceAttribute.MinAlignmentC, CublasLtPreferenceAttribute.MinAlignmentD])
            {
                Check(CublasLt.cublasLtMatmulPreferenceSetAttribute(preference, attribute, &alignment, sizeof(uint)));
            }

            CublasLtHeuristicResult result;
            Check(CublasLt.cublasLtMatmulAlgoGetHeuristic(lt.Handle, matmul, layoutA, layoutB, layoutD, layoutD, preference, 1, &result, out int found));
            if (found == 0 || result.State != CublasStatus.Success)
            {
                throw new CublasException(found == 0 ? CublasStatus.NotSupported : result.State, "cublasLtMatmulAlgoGetHeuristic", $"no algorithm for {Describe()}");
            }

            return (result.Algo, (long)result.WorkspaceSize);
        }
        finally
        {
            CublasLt.cublasLtMatmulPreferenceDestroy(preference);
        }
    }

    private void SetAttribute<T>(CublasLtMatmulDescAttribute attribute, T value)
        where T : unmanaged =>
        Check(CublasLt.cublasLtMatmulDescSetAttribute(matmul, attribute, &value, (nuint)sizeof(T)));

    private void Require(DeviceBuffer buffer, long bytes, string what)
    {
        buffer.RequireBytes(bytes, $"{Name} {what}");
        if (buffer.Pointer % (ulong)PointerAlignment != 0)
        {
            throw new ArgumentException($"{Name} {what} at 0x{buffer.Pointer:x} is not {PointerAlignment}-byte aligned, as the chosen algorithm assumes.");
        }
    }

    private void Check(CublasStatus status, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(status))] string call = "") =>
        CublasException.ThrowIfFailed(status, Describe(), call);

    private string Describe() => $"GEMM '{Name}' M={M} N={N} K={K} lda={lda} ldb={ldb} ldd={ldd} epilogue={Epilogue} output={Output}";
}
