using System;
using System.Linq;
using ShadowKV.Compiler.Plans;
using ShadowKV.Models;
using ShadowKV.Runtime.Engine.Checkpoints;

namespace ShadowKV.Runtime.Tests.Checkpoints;

// The built-in model's weights: a bf16 checkpoint in memory that binds like a downloaded one.
public sealed class RandomCheckpointTests
{
    private static readonly ModelConfig Tiny = ModelConfig.Preset("tiny-llama3") with { NumHiddenLayers = 2 };

    [Fact]
    public void TheSameSeedGivesTheSameWeightsAndAnotherSeedDifferentOnes()
    {
        using SafetensorsCheckpoint a = RandomCheckpoint.Create(Tiny, seed: 5);
        using SafetensorsCheckpoint b = RandomCheckpoint.Create(Tiny, seed: 5);
        using SafetensorsCheckpoint c = RandomCheckpoint.Create(Tiny, seed: 6);
        Assert.Equal(a.Tensors.Keys.Order(StringComparer.Ordinal), b.Tensors.Keys.Order(StringComparer.Ordinal));
        foreach ((string name, CheckpointTensor tensor) in a.Tensors)
        {
            Assert.True(tensor.Bytes.SequenceEqual(b.Tensors[name].Bytes), $"{name} differs between two runs with seed 5");
            Assert.False(tensor.Bytes.SequenceEqual(c.Tensors[name].Bytes), $"{name} is the same for seeds 5 and 6");
        }

        // Two tensors of one shape get different values (the name is part of the generator's key).
        Assert.False(a.Tensors["model.layers.0.mlp.gate_proj.weight"].Bytes.SequenceEqual(a.Tensors["model.layers.0.mlp.up_proj.weight"].Bytes));
    }

    [Theory]
    [InlineData("model.embed_tokens.weight", 0.0, 1.0)]
    [InlineData("model.layers.1.self_attn.q_proj.weight", 0.0, 0.04419417)]  // 1/√512
    [InlineData("model.layers.1.mlp.down_proj.weight", 0.0, 0.03125)]        // 1/√1024
    [InlineData("model.layers.0.input_layernorm.weight", 1.0, 0.1)]
    public void ValuesHaveTheIntendedMeanAndSpread(string name, double mean, double std)
    {
        using SafetensorsCheckpoint checkpoint = RandomCheckpoint.Create(Tiny, seed: 1);
        CheckpointTensor tensor = checkpoint.Tensors[name];
        Assert.Equal(SafetensorsDType.BF16, tensor.DType);
        float[] values = tensor.ToFloat32();
        double average = values.Average(v => (double)v);
        double spread = Math.Sqrt(values.Average(v => (v - average) * (v - average)));
        // Sampling error of n ≥ 512 values: the mean within 4σ/√n, the standard deviation within 10% (bf16 rounding
        // and the uniform's bounded support change neither by more than a fraction of that).
        Assert.InRange(average, mean - 4 * std / Math.Sqrt(values.Length), mean + 4 * std / Math.Sqrt(values.Length));
        Assert.InRange(spread, 0.9 * std, 1.1 * std);
        double bound = Math.Sqrt(3) * std * 1.01;
        Assert.All(values, v => Assert.InRange(v, mean - bound, mean + bound));
    }

    [Theory]
    [InlineData("tiny-llama3")]
    [InlineData("qwen2-7b")]      // q/k/v biases
    [InlineData("stories260k")]   // tied embeddings: no lm_head tensor
    public void EveryPresetShapeBindsToItsCompiledModel(string preset)
    {
        // Two layers and a small vocabulary keep it fast; what binds does not depend on the sizes.
        ModelConfig config = ModelConfig.Preset(preset) with { NumHiddenLayers = 2, VocabSize = 256 };
        CompiledModel model = CompiledModels.All.First(m => m.Architectures.Contains(config.Architectures[0]));
        using SafetensorsCheckpoint checkpoint = RandomCheckpoint.Create(config, seed: 3);
        BoundWeights bound = new CheckpointBinder(model.Weights, config).Bind(checkpoint);
        Assert.Equal(config.TieWordEmbeddings, !checkpoint.Tensors.ContainsKey("lm_head.weight"));
        Assert.All(bound.All, w => Assert.Equal(w.Shape.Aggregate(1L, (a, b) => a * b), w.Tensor.ElementCount));
    }

    [Fact]
    public void ADisposedCheckpointRefusesReads()
    {
        SafetensorsCheckpoint checkpoint = RandomCheckpoint.Create(Tiny with { NumHiddenLayers = 1 }, seed: 0);
        CheckpointTensor tensor = checkpoint.Tensors["model.norm.weight"];
        Assert.Equal(512, tensor.ToFloat32().Length);
        checkpoint.Dispose();
        Assert.Throws<ObjectDisposedException>(() => tensor.ToFloat32());
    }
}
