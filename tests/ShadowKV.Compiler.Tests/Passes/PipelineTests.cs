using ShadowKV.Compiler.Ir;
using ShadowKV.Compiler.Plans;
using ShadowKV.Runtime.Engine.Checkpoints;
using ShadowKV.Runtime.Engine.Execution;

namespace ShadowKV.Compiler.Tests.Passes;

// Whole-pipeline checks on the real models: the IR is valid after every pass, and the memory plan's sizes are what
// the algorithm says for GQA/MHA and head dims 64/128.
public sealed class PipelineTests
{
    public static TheoryData<string, string, string> Dumps()
    {
        var data = new TheoryData<string, string, string>();
        foreach (CompiledModel model in global::ShadowKV.Models.CompiledModels.All)
        {
            foreach (GraphDump dump in model.Graphs)
            {
                data.Add(model.Name, dump.Phase, dump.Pass);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Dumps))]
    public void IrIsValidAfterEveryPassAndPrintsStably(string modelName, string phase, string pass)
    {
        GraphDump dump = global::ShadowKV.Models.CompiledModels.All.Single(m => m.Name == modelName).Graphs.Single(g => g.Phase == phase && g.Pass == pass);

        Graph graph = IrParser.Parse(dump.Text);

        Assert.Empty(IrVerifier.Verify(graph, requireTypes: pass != "build"));
        Assert.Equal(dump.Text.TrimEnd('\n'), IrPrinter.Print(graph).TrimEnd('\n')); // raw string literals drop the final newline
    }

    [Theory]
    [InlineData(4, 128)]
    [InlineData(1, 128)]
    [InlineData(4, 64)]
    [InlineData(1, 64)]
    public void ShadowKVCacheHoldsFactorsLandmarksAndExactSetsOnly(int groupSize, int headDim)
    {
        // Per layer and sequence the GPU keeps A (S×r bf16), the basis (r×D f32), landmarks (S/c × d per KV head),
        // outliers and the local tail (K and V exact), k working slots (K and V), the generated region and the small
        // int tables; values live in the host block (S × D bf16). No S × D device tensor remains.
        ModelConfig config = ModelConfig.Presets["tiny-llama3"] with { NumKeyValueHeads = 32 / groupSize, NumAttentionHeads = 32, HeadDim = headDim };
        CompiledModel llama = global::ShadowKV.Models.CompiledModels.All.Single(m => m.Name == "Llama");
        PhasePlan decode = llama.Phases.Single(p => p.Name == "decode.shadowkv");
        var options = new EngineOptions { Variant = AttentionVariant.ShadowKV, MaxBatch = 1, MaxPromptTokens = 65536, MaxNewTokens = 512 };
        PlanSymbols s = PlanSymbols.For(config, options, llama.ShadowKV);
        long S = s["S"], D = s["D"], r = s["r"], c = s["c"], hkv = s["Hkv"], d = s["d"], k = s["k"], o = s["o"], nloc = s["nloc"], maxNew = s["max_new"];

        long expected = Aligned(S * r * 2) + Aligned(r * D * 4) + Aligned(hkv * (S / c) * d * 2) + Aligned(hkv * (S / c) * 4) + Aligned(hkv * 4)
            + 2 * Aligned(hkv * o * c * d * 2) + 2 * Aligned(hkv * (nloc + 1) * c * d * 2) + Aligned(4)
            + Aligned(hkv * k * 4) + 2 * Aligned(hkv * maxNew * d * 2) + 2 * Aligned(hkv * k * c * d * 2);

        Assert.Equal(expected, s.Evaluate(decode.CacheBytesPerLayer));
        Assert.Equal(Aligned(hkv * (S / c) * c * d * 2), s.Evaluate(decode.HostCacheBytesPerLayer));
        long fullKv = 2 * S * D * 2;
        Assert.True(s.Evaluate(decode.CacheBytesPerLayer) < fullKv / 3, "ShadowKV's GPU cache should be several times smaller than full attention's");
    }

    [Fact]
    public void TransientBuffersShareArenaSlotsAndInPlaceOutputsShareBuffers()
    {
        // Layer-local values reuse slots once dead; the residual add into the norm and the GEMM epilogue write in place.
        PhasePlan prefill = global::ShadowKV.Models.CompiledModels.All.Single(m => m.Name == "Llama").Phases.Single(p => p.Name == "prefill.full");
        var transient = prefill.Buffers.Where(b => b.Lifetime == BufferLifetime.Transient).ToList();
        PlanStep addNorm = prefill.Steps.Single(s => s.Op == OpContracts.AddRmsNorm);
        PlanStep down = prefill.Steps.Single(s => s.Gemm?.Residual is not null);

        Assert.True(transient.Select(b => b.Offset).Distinct().Count() < transient.Count, "no transient slot was reused");
        Assert.Equal(addNorm.Inputs[0], addNorm.Outputs[0]);
        Assert.Equal(down.Gemm!.Residual, down.Gemm.C);
        Assert.Equal("x", down.Gemm.C);
    }

    [Fact]
    public void EveryLaunchBindsRealRolesAndEvaluableSizes()
    {
        // What the GPU executor will resolve: in:/out: name roles of the op's contract, sym: and grid evaluate.
        var symbols = PlanSymbols.For(ModelConfig.Presets["llama-3.1-8b"], new EngineOptions { Variant = AttentionVariant.ShadowKV, MaxBatch = 2 }, null).ForStep(300);
        foreach (CompiledModel model in global::ShadowKV.Models.CompiledModels.All)
        {
            foreach (PlanStep step in model.Phases.SelectMany(p => p.Steps).Where(s => s.Launch is not null))
            {
                OpContract contract = OpContracts.All[step.Op];
                foreach (string binding in step.Launch!.Arguments)
                {
                    string value = binding.Substring(binding.IndexOf(':') + 1);
                    switch (binding.Substring(0, binding.IndexOf(':')))
                    {
                        case "in": Assert.True(contract.InputIndex(value) >= 0, $"{step.Launch.Kernel}: no input role '{value}'"); break;
                        case "out": Assert.True(contract.OutputIndex(value) >= 0, $"{step.Launch.Kernel}: no output role '{value}'"); break;
                        case "sym": Assert.True(symbols.Evaluate(value) >= 0, binding); break;
                    }
                }

                Assert.All(step.Launch.Grid, g => Assert.True(symbols.Evaluate(g) > 0, $"{step.Launch.Kernel} grid {g}"));
            }
        }
    }

    private static long Aligned(long bytes) => (bytes + 255) / 256 * 256;
}
