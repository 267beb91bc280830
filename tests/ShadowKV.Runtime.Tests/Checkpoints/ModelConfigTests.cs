using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using ShadowKV.Runtime.Engine.Checkpoints;
using ShadowKV.Runtime.Tests.Support;

namespace ShadowKV.Runtime.Tests.Checkpoints;

public class ModelConfigTests
{
    private const string Minimal = """
        {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 256, "intermediate_size": 512,
         "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 1000, "max_position_embeddings": 2048,
         "rms_norm_eps": 1e-5, "eos_token_id": 2, "bos_token_id": 1 %EXTRA%}
        """;

    private static ModelConfig ParseWith(string extra = "") => ModelConfig.Parse(Minimal.Replace("%EXTRA%", extra), "test/config.json");

    [Fact]
    public void Stories260kConfigParses()
    {
        string path = SharedData.RequireFile("models/stories260K/config.json");
        ModelConfig config = ModelConfig.Load(Path.GetDirectoryName(path)!);
        Assert.Equal(["LlamaForCausalLM"], config.Architectures);
        Assert.Equal((64, 172, 5, 8, 4, 8, 512), (config.HiddenSize, config.IntermediateSize, config.NumHiddenLayers,
            config.NumAttentionHeads, config.NumKeyValueHeads, config.HeadDim, config.VocabSize));
        Assert.True(config.TieWordEmbeddings);
        Assert.Equal([2], config.EosTokenIds);
        Assert.Equal(ModelConfig.Presets["stories260k"], config with { TorchDtype = "float32" }, new ConfigComparer());
    }

    [Fact]
    public void DefaultsFollowTransformers()
    {
        ModelConfig config = ParseWith();
        Assert.Equal(4, config.NumKeyValueHeads); // = heads
        Assert.Equal(64, config.HeadDim);         // = hidden / heads
        Assert.Equal(10000.0, config.RopeTheta);
        Assert.False(config.AttentionBias);
        Assert.Null(config.RopeScaling);
    }

    [Fact]
    public void EosMayBeAList()
    {
        Assert.Equal([128001, 2, 3], ParseWith(""", "eos_token_id": [128001, 2, 3], "vocab_size": 128256""").EosTokenIds);
    }

    [Fact]
    public void Qwen2AlwaysHasQkvBias()
    {
        Assert.True(ParseWith(""", "model_type": "qwen2" """).AttentionBias);
        Assert.True(ParseWith(""", "attention_bias": true""").AttentionBias);
    }

    [Fact]
    public void SymbolsCoverThePlanVocabulary()
    {
        IReadOnlyDictionary<string, long> symbols = ModelConfig.Presets["llama-3.1-8b"].Symbols;
        Assert.Equal(4096, symbols["hidden"]);
        Assert.Equal(14336, symbols["ffn"]);
        Assert.Equal(128256, symbols["vocab"]);
        Assert.Equal(32, symbols["Hq"]);
        Assert.Equal(8, symbols["Hkv"]);
        Assert.Equal(128, symbols["d"]);
        Assert.Equal(4, symbols["G"]);
        Assert.Equal(32, symbols["L"]);
    }

    [Fact]
    public void PresetsAreValidAndNamed()
    {
        string[] names = ["llama-3.1-8b", "llama-3-8b", "llama-2-7b", "mistral-7b", "qwen2-7b", "stories260k", "tiny-llama3"];
        Assert.Equal(names.Order(), ModelConfig.Presets.Keys.Order());
        ModelConfig tiny = ModelConfig.Presets["tiny-llama3"];
        Assert.Equal((128, 4, 4, 512, 1024, 512), (tiny.HeadDim, tiny.GroupSize, tiny.NumHiddenLayers, tiny.HiddenSize, tiny.IntermediateSize, tiny.VocabSize));
        Assert.True(ModelConfig.Presets["qwen2-7b"].AttentionBias);
        Assert.Contains("known presets: llama-2-7b", Assert.Throws<ModelConfigException>(() => ModelConfig.Preset("gpt-5")).Message);
    }

    [Theory]
    [InlineData("\"num_key_value_heads\": 3", "num_key_value_heads", "not a multiple")]
    [InlineData("\"hidden_size\": -5", "hidden_size", "must be positive")]
    [InlineData("\"vocab_size\": \"big\"", "vocab_size", "expected an integer")]
    [InlineData("\"eos_token_id\": 5000", "eos_token_id", "outside the vocabulary")]
    [InlineData("\"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4}", "rope_scaling.rope_type", "'yarn' is not supported")]
    [InlineData("\"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8}", "rope_scaling.low_freq_factor", "missing")]
    public void InvalidFieldsAreNamed(string extra, string field, string problem)
    {
        var e = Assert.Throws<ModelConfigException>(() => ParseWith(", " + extra));
        Assert.Equal(field, e.Field);
        Assert.Contains("test/config.json", e.Message);
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void MissingRequiredFieldIsNamed()
    {
        var e = Assert.Throws<ModelConfigException>(() => ModelConfig.Parse("""{"hidden_size": 8, "num_attention_heads": 2}""", "x/config.json"));
        Assert.Equal("intermediate_size", e.Field);
        Assert.Throws<ModelConfigException>(() => ModelConfig.Parse("[1, 2]", "x/config.json"));
        Assert.Throws<ModelConfigException>(() => ModelConfig.Parse("{not json", "x/config.json"));
        Assert.Throws<ModelConfigException>(() => ModelConfig.Load(Path.Combine(Path.GetTempPath(), "no-such-model-dir-skv")));
    }

    [Fact]
    public void DefaultRopeFrequenciesArePowersOfTheta()
    {
        float[] inverse = ParseWith(""", "rope_theta": 10000.0""").RopeInverseFrequencies();
        Assert.Equal(32, inverse.Length);
        for (int i = 0; i < inverse.Length; i++)
        {
            Assert.Equal(Math.Pow(10000.0, -2.0 * i / 64), inverse[i], 1e-6 * Math.Pow(10000.0, -2.0 * i / 64));
        }
    }

    // Reference: transformers' _compute_llama3_parameters evaluated step by step in float32 (Llama-3.1-8B's config).
    [Theory]
    [InlineData(0, 1.0)]
    [InlineData(1, 0.8146172165870667)]
    [InlineData(20, 0.016560440883040428)]
    [InlineData(30, 0.0013718936825171113)]
    [InlineData(40, 3.428102354519069e-05)]
    [InlineData(45, 1.2297638932068367e-05)]
    [InlineData(50, 4.411534519022098e-06)]
    [InlineData(63, 3.068925877869333e-07)]
    public void Llama31RopeScalingMatchesTransformers(int index, double expected)
    {
        ModelConfig config = ParseWith("""
            , "head_dim": 128, "num_attention_heads": 32, "hidden_size": 4096, "rope_theta": 500000.0,
            "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                             "original_max_position_embeddings": 8192, "rope_type": "llama3"}
            """);
        float[] inverse = config.RopeInverseFrequencies();
        Assert.Equal(64, inverse.Length);
        // One float32 ulp: MathF.Pow and PyTorch's pow may round the last bit differently.
        Assert.Equal(expected, inverse[index], Math.Abs(expected) * 1.2e-7);
        Assert.Equal(ModelConfig.Presets["llama-3.1-8b"].RopeInverseFrequencies(), inverse);
    }

    private sealed class ConfigComparer : IEqualityComparer<ModelConfig>
    {
        public bool Equals(ModelConfig? a, ModelConfig? b) =>
            a is not null && b is not null && a.Symbols.OrderBy(p => p.Key).SequenceEqual(b.Symbols.OrderBy(p => p.Key))
            && a.TieWordEmbeddings == b.TieWordEmbeddings && a.RopeTheta == b.RopeTheta && a.RmsNormEps == b.RmsNormEps
            && a.EosTokenIds.SequenceEqual(b.EosTokenIds) && a.BosTokenId == b.BosTokenId;

        public int GetHashCode(ModelConfig obj) => 0;
    }
}
