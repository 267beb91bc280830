using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using ShadowKV.Compiler.Plans;
using ShadowKV.Runtime.Cuda;
using ShadowKV.Runtime.Engine.Checkpoints;
using ShadowKV.Runtime.Engine.Execution;
using ShadowKV.Runtime.Gpu;
using ShadowKV.Runtime.Tests.Cuda;

namespace ShadowKV.Runtime.Tests.Gpu;

// Every kernel instantiation the tier-2 GPU tests launch, compiled (not run) with the local NVRTC for sm_90, so a
// template that stops compiling for one (d, G, c, r) fails here rather than on the GPU host. Two groups: what
// GpuBackend asks NVRTC for (its name expressions) for the models the tier-2 tests run, and the standalone matrix of
// ShadowKV.Gpu.Tests/Kernels/DenseKernelTests (keep the two lists in step).
public sealed class GpuKernelInstantiationTests
{
    private const string Arch = "sm_90";

    public static TheoryData<string> Models => new() { "stories260K", "llama3-small", "llama-3.1-8b" };

    private static ModelConfig Config(string name) => name switch
    {
        // tests/ShadowKV.Gpu.Tests: stories260K (d = 8, G = 2) and the random Llama-3-shaped models (d = 128, G = 4).
        "stories260K" => new ModelConfig { HiddenSize = 64, IntermediateSize = 172, NumHiddenLayers = 5, NumAttentionHeads = 8, NumKeyValueHeads = 4, HeadDim = 8, VocabSize = 512, RmsNormEps = 1e-5 },
        "llama3-small" => new ModelConfig { HiddenSize = 512, IntermediateSize = 1536, NumHiddenLayers = 2, NumAttentionHeads = 4, NumKeyValueHeads = 1, HeadDim = 128, VocabSize = 2048, RmsNormEps = 1e-5 },
        _ => new ModelConfig { HiddenSize = 4096, IntermediateSize = 14336, NumHiddenLayers = 32, NumAttentionHeads = 32, NumKeyValueHeads = 8, HeadDim = 128, VocabSize = 128256, RmsNormEps = 1e-5 },
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void Every_phase_compiles_for_the_backends_instantiations(string modelName)
    {
        NvrtcRequirement.Require();
        CompiledModel model = ShadowKV.Models.Llama.Plan;
        ModelConfig config = Config(modelName);
        var cache = new KernelCache(Path.Combine(Path.GetTempPath(), "skv-instantiation-tests-" + Environment.ProcessId));
        // ShadowKV's rebuild_keys_rope needs d/2 to be a whole number of 8-column mma tiles (d ≥ 16, static_assert),
        // so stories260K (d = 8) compiles its full-attention phases only.
        AttentionVariant[] variants = config.HeadDim >= 16 ? [AttentionVariant.Full, AttentionVariant.ShadowKV] : [AttentionVariant.Full];
        foreach (AttentionVariant variant in variants)
        {
            PlanSymbols symbols = PlanSymbols.For(config, new EngineOptions { Variant = variant, MaxPromptTokens = 4096 }, model.ShadowKV);
            foreach (PhasePlan phase in model.Phases.Where(p => p.Variant == variant))
            {
                string[] names = KernelInstantiations.For(phase, symbols).ToArray();
                Assert.NotEmpty(names);
                string source = model.Sources.Single(s => s.Name == phase.CudaSource).Text;
                CompiledKernels compiled = cache.Compile(phase.Name + ".cu", source, Arch, names);
                Assert.All(names, n => Assert.True(compiled.LoweredNames.ContainsKey(n), $"{phase.Name}: no lowered name for {n}"));
            }
        }
    }

    [Fact]
    public void The_standalone_kernel_test_matrix_compiles()
    {
        NvrtcRequirement.Require();
        int[] dims = [8, 64, 128];
        int[] groups = [1, 2, 4];
        var prefill = new List<string> { "llama_prefill_embedding", "llama_prefill_rms_norm", "llama_prefill_add_rms_norm", "llama_prefill_gather_rows", "llama_prefill_silu_mul" };
        var decode = new List<string>();
        foreach (int d in dims)
        {
            prefill.Add($"llama_prefill_rope_kv_append<{d}>");
            decode.Add($"llama_decode_decode_attention_combine<{d}>");
            foreach (int g in groups)
            {
                prefill.Add($"llama_prefill_flash_attention<{d},{g}>");
                decode.Add($"llama_decode_decode_attention<{d},{g}>");
            }
        }

        var cache = new KernelCache(Path.Combine(Path.GetTempPath(), "skv-instantiation-tests-" + Environment.ProcessId));
        foreach ((string name, string source, List<string> names) in new[] { ("prefill.full", ShadowKV.Models.Llama.Cuda.PrefillFull, prefill), ("decode.full", ShadowKV.Models.Llama.Cuda.DecodeFull, decode) })
        {
            CompiledKernels compiled = cache.Compile(name + ".cu", source, Arch, names);
            Assert.All(names, n => Assert.True(compiled.LoweredNames.ContainsKey(n), $"{name}: no lowered name for {n}"));
        }
    }
}
