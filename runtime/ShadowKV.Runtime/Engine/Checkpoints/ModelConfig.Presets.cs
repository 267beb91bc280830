using System;
using System.Collections.Generic;
using System.Linq;

namespace ShadowKV.Runtime.Engine.Checkpoints;

// Named shapes (gpt-fast's transformer_configs) for random-weight benchmarks and tests; the values are those of
// the published config.json files of each model.
public sealed partial record ModelConfig
{
    private static readonly RopeScaling Llama31Scaling = new("llama3", 8.0, 1.0, 4.0, 8192);

    /// <summary>Named model shapes: llama-3.1-8b, llama-3-8b, llama-2-7b, mistral-7b, qwen2-7b, stories260k, tiny-llama3.</summary>
    public static IReadOnlyDictionary<string, ModelConfig> Presets { get; } = BuildPresets();

    /// <summary>The preset called <paramref name="name"/>; an unknown name is an error listing the known ones.</summary>
    public static ModelConfig Preset(string name) =>
        Presets.TryGetValue(name, out ModelConfig? config)
            ? config
            : throw new ModelConfigException($"preset '{name}'", null, $"unknown preset; known presets: {string.Join(", ", Presets.Keys.Order(StringComparer.Ordinal))}.");

    private static Dictionary<string, ModelConfig> BuildPresets()
    {
        var llama3 = new ModelConfig
        {
            Architectures = ["LlamaForCausalLM"],
            ModelType = "llama",
            HiddenSize = 4096,
            IntermediateSize = 14336,
            NumHiddenLayers = 32,
            NumAttentionHeads = 32,
            NumKeyValueHeads = 8,
            HeadDim = 128,
            VocabSize = 128256,
            MaxPositionEmbeddings = 8192,
            RopeTheta = 500000.0,
            RmsNormEps = 1e-5,
            BosTokenId = 128000,
            EosTokenIds = [128001],
            TorchDtype = "bfloat16",
        };
        var llama2 = new ModelConfig
        {
            Architectures = ["LlamaForCausalLM"],
            ModelType = "llama",
            HiddenSize = 4096,
            IntermediateSize = 11008,
            NumHiddenLayers = 32,
            NumAttentionHeads = 32,
            NumKeyValueHeads = 32,
            HeadDim = 128,
            VocabSize = 32000,
            MaxPositionEmbeddings = 4096,
            RopeTheta = 10000.0,
            RmsNormEps = 1e-5,
            BosTokenId = 1,
            EosTokenIds = [2],
            TorchDtype = "float16",
        };
        var presets = new Dictionary<string, ModelConfig>(StringComparer.OrdinalIgnoreCase)
        {
            ["llama-3.1-8b"] = llama3 with
            {
                MaxPositionEmbeddings = 131072,
                EosTokenIds = [128001, 128008, 128009],
                RopeScaling = Llama31Scaling,
            },
            ["llama-3-8b"] = llama3,
            ["llama-2-7b"] = llama2,
            ["mistral-7b"] = llama2 with
            {
                Architectures = ["MistralForCausalLM"],
                ModelType = "mistral",
                IntermediateSize = 14336,
                NumKeyValueHeads = 8,
                MaxPositionEmbeddings = 32768,
                TorchDtype = "bfloat16",
            },
            ["qwen2-7b"] = new ModelConfig
            {
                Architectures = ["Qwen2ForCausalLM"],
                ModelType = "qwen2",
                HiddenSize = 3584,
                IntermediateSize = 18944,
                NumHiddenLayers = 28,
                NumAttentionHeads = 28,
                NumKeyValueHeads = 4,
                HeadDim = 128,
                VocabSize = 152064,
                MaxPositionEmbeddings = 131072,
                RopeTheta = 1000000.0,
                RmsNormEps = 1e-6,
                BosTokenId = 151643,
                EosTokenIds = [151643],
                AttentionBias = true,
                TorchDtype = "bfloat16",
            },
            ["stories260k"] = new ModelConfig
            {
                Architectures = ["LlamaForCausalLM"],
                ModelType = "llama",
                HiddenSize = 64,
                IntermediateSize = 172,
                NumHiddenLayers = 5,
                NumAttentionHeads = 8,
                NumKeyValueHeads = 4,
                HeadDim = 8,
                VocabSize = 512,
                MaxPositionEmbeddings = 512,
                RopeTheta = 10000.0,
                RmsNormEps = 1e-5,
                TieWordEmbeddings = true,
                BosTokenId = 1,
                EosTokenIds = [2],
                TorchDtype = "float32",
            },
            // A tiny model with Llama-3.1's proportions where they matter to kernels (head_dim 128, 4:1 GQA,
            // llama3 RoPE scaling) and a 512-entry vocabulary, so the stories260K tokenizer can drive it.
            ["tiny-llama3"] = llama3 with
            {
                HiddenSize = 512,
                IntermediateSize = 1024,
                NumHiddenLayers = 4,
                NumAttentionHeads = 4,
                NumKeyValueHeads = 1,
                HeadDim = 128,
                VocabSize = 512,
                MaxPositionEmbeddings = 32768,
                BosTokenId = 1,
                EosTokenIds = [2],
                RopeScaling = Llama31Scaling,
            },
        };
        foreach (var (name, config) in presets)
        {
            config.Validate($"preset '{name}'");
        }

        return presets;
    }
}
