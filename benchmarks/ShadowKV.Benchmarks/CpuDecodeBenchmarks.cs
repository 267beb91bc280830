using BenchmarkDotNet.Attributes;
using ShadowKV.Runtime.Cpu.Kernels;

namespace ShadowKV.Benchmarks;

/// <summary>
/// The CPU backend's two decode hot spots side by side: one decode step's attention over a full cache versus ShadowKV's
/// sparse attention over the selected budget, at Llama-3-8B head geometry (Hq 32, Hkv 8, d 128) for one layer.
/// </summary>
[MemoryDiagnoser]
public class CpuDecodeBenchmarks
{
    private const int Hq = 32, Hkv = 8, D = 128;
    private float[] _q = [], _kCache = [], _vCache = [], _output = [];
    private float[] _selectedK = [], _selectedV = [], _exactK = [], _exactV = [];

    [Params(8192, 32768)]
    public int Context { get; set; }

    [Params(1024)]
    public int BudgetTokens { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(7);
        float[] Random(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        _q = Random(Hq * D);
        _kCache = Random(Hkv * Context * D);
        _vCache = Random(Hkv * Context * D);
        _selectedK = Random(Hkv * BudgetTokens * D);
        _selectedV = Random(Hkv * BudgetTokens * D);
        _exactK = Random(Hkv * 64 * D);
        _exactV = Random(Hkv * 64 * D);
        _output = new float[Hq * D];
    }

    [Benchmark(Baseline = true, Description = "full attention decode")]
    public void FullAttention() => CpuKernels.DecodeAttention(_q, _kCache, _vCache, Context, Context, Hq, Hkv, D, _output);

    [Benchmark(Description = "ShadowKV sparse attention")]
    public void SparseAttention() =>
        ShadowKvKernels.SparseAttention(_q, Hq, Hkv, D, _exactK, _exactV, 64, 64, _selectedK, _selectedV, BudgetTokens, _output);
}
