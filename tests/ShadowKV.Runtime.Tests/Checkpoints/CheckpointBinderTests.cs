using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using ShadowKV.Compiler.Plans;
using ShadowKV.Runtime.Engine.Checkpoints;
using ShadowKV.Runtime.Tests.Support;

namespace ShadowKV.Runtime.Tests.Checkpoints;

public class CheckpointBinderTests
{
    // The weight list a generated Llama plan carries (hand-written here; the generator owns the real one).
    internal static readonly WeightBinding[] LlamaWeights =
    [
        new("Embedding", "model.embed_tokens.weight", ["vocab", "hidden"], false),
        new("InputLayernorm", "model.layers.{layer}.input_layernorm.weight", ["hidden"], true),
        new("QProj", "model.layers.{layer}.self_attn.q_proj.weight", ["Hq*d", "hidden"], true),
        new("KProj", "model.layers.{layer}.self_attn.k_proj.weight", ["Hkv*d", "hidden"], true),
        new("VProj", "model.layers.{layer}.self_attn.v_proj.weight", ["Hkv*d", "hidden"], true),
        new("OProj", "model.layers.{layer}.self_attn.o_proj.weight", ["hidden", "Hq*d"], true),
        new("PostAttentionLayernorm", "model.layers.{layer}.post_attention_layernorm.weight", ["hidden"], true),
        new("GateProj", "model.layers.{layer}.mlp.gate_proj.weight", ["ffn", "hidden"], true),
        new("UpProj", "model.layers.{layer}.mlp.up_proj.weight", ["ffn", "hidden"], true),
        new("DownProj", "model.layers.{layer}.mlp.down_proj.weight", ["hidden", "ffn"], true),
        new("Norm", "model.norm.weight", ["hidden"], false),
        new("LmHead", "lm_head.weight", ["vocab", "hidden"], false),
    ];

    private static readonly ModelConfig Tiny = ModelConfig.Presets["stories260k"] with { NumHiddenLayers = 2 };

    [Fact]
    public void Stories260kBindsWithTiedHead()
    {
        string dir = SharedData.RequireDirectory("models/stories260K");
        ModelConfig config = ModelConfig.Load(dir);
        using SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.Open(dir);
        BoundWeights weights = new CheckpointBinder(LlamaWeights, config).Bind(checkpoint);
        Assert.Equal(2 + 9 * 5 + 1, weights.All.Count);
        Assert.Same(weights.Get("Embedding"), weights.Get("LmHead"));
        Assert.Equal("model.layers.4.self_attn.k_proj.weight", weights.Get("KProj", 4).Name);
        Assert.Equal([32L, 64L], weights.All.Single(w => w.Binding.Name == "KProj" && w.Layer == 4).Shape);
    }

    [Fact]
    public void AllMissingTensorsAreListedAtOnce()
    {
        using var dir = new TempDirectory();
        var partial = new SafetensorsWriter();
        // Rebuild without layer 1's attention and without the final norm.
        foreach (var weight in ExpandedNames(Tiny).Where(n => !n.Name.StartsWith("model.layers.1.self_attn", StringComparison.Ordinal) && n.Name != "model.norm.weight"))
        {
            partial.AddZeros(weight.Name, weight.Shape);
        }

        partial.WriteTo(dir.File("model.safetensors"));
        using SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.Open(dir.Path);
        var e = Assert.Throws<CheckpointException>(() => new CheckpointBinder(LlamaWeights, Tiny).Bind(checkpoint));
        Assert.Contains("5 tensor(s) missing", e.Message);
        Assert.Contains("model.layers.1.self_attn.q_proj.weight", e.Message);
        Assert.Contains("model.layers.1.self_attn.o_proj.weight", e.Message);
        Assert.Contains("model.norm.weight", e.Message);
        Assert.Contains("model.safetensors", e.Message);
    }

    [Fact]
    public void WrongShapeShowsTheSymbolicForm()
    {
        using var dir = new TempDirectory();
        var writer = new SafetensorsWriter();
        foreach (var weight in ExpandedNames(Tiny))
        {
            long[] shape = weight.Name == "model.layers.0.self_attn.k_proj.weight" ? [64, 64] : weight.Shape;
            writer.AddZeros(weight.Name, shape);
        }

        writer.WriteTo(dir.File("model.safetensors"));
        using SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.Open(dir.Path);
        var e = Assert.Throws<CheckpointException>(() => new CheckpointBinder(LlamaWeights, Tiny).Bind(checkpoint));
        Assert.Contains("'model.layers.0.self_attn.k_proj.weight' (weight KProj) has shape [64, 64], expected [Hkv*d=32, hidden=64]", e.Message);
    }

    [Fact]
    public void UnusedTensorsAreErrorsExceptRotaryFrequencies()
    {
        using var dir = new TempDirectory();
        SafetensorsWriter writer = FullCheckpoint(Tiny)
            .AddZeros("model.layers.0.self_attn.rotary_emb.inv_freq", [4])
            .AddZeros("model.layers.0.self_attn.q_norm.weight", [8]);
        writer.WriteTo(dir.File("model.safetensors"));
        using SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.Open(dir.Path);
        var e = Assert.Throws<CheckpointException>(() => new CheckpointBinder(LlamaWeights, Tiny).Bind(checkpoint));
        Assert.Contains("1 tensor(s) unused", e.Message);
        Assert.Contains("q_norm", e.Message);
        Assert.DoesNotContain("inv_freq", e.Message);
    }

    [Fact]
    public void UntiedModelNeedsItsHead()
    {
        using var dir = new TempDirectory();
        FullCheckpoint(Tiny).WriteTo(dir.File("model.safetensors"));
        using SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.Open(dir.Path);
        var e = Assert.Throws<CheckpointException>(() => new CheckpointBinder(LlamaWeights, Tiny with { TieWordEmbeddings = false }).Bind(checkpoint));
        Assert.Contains("lm_head.weight", e.Message);
    }

    [Fact]
    public void UnsupportedArchitectureListsTheSupportedOnes()
    {
        string dir = SharedData.RequireDirectory("models/stories260K");
        var e = Assert.Throws<ModelConfigException>(() => ModelDirectory.Open(dir, ["Qwen2ForCausalLM", "MistralForCausalLM"]));
        Assert.Contains("LlamaForCausalLM is not supported; supported architectures: MistralForCausalLM, Qwen2ForCausalLM", e.Message);

        using ModelDirectory model = ModelDirectory.Open(dir, ["LlamaForCausalLM"]);
        Assert.Equal("LlamaForCausalLM", model.Architecture);
        Assert.NotNull(model.TokenizerModel);
        Assert.Null(model.TokenizerJson);
        Assert.True(model.HasTokenizer);
        Assert.Equal(5, model.Config.NumHiddenLayers);
    }

    // Every tensor the Llama weights need (tied: no lm_head), with zero data.
    private static SafetensorsWriter FullCheckpoint(ModelConfig config)
    {
        var writer = new SafetensorsWriter();
        foreach (var weight in ExpandedNames(config))
        {
            writer.AddZeros(weight.Name, weight.Shape);
        }

        return writer;
    }

    private static IEnumerable<(string Name, long[] Shape)> ExpandedNames(ModelConfig config)
    {
        foreach (WeightBinding weight in LlamaWeights.Where(w => w.Name != "LmHead"))
        {
            long[] shape = weight.Shape.Select(s => SymbolicExpression.Evaluate(s, config.Symbols)).ToArray();
            for (int layer = 0; layer < (weight.PerLayer ? config.NumHiddenLayers : 1); layer++)
            {
                yield return (weight.Checkpoint.Replace("{layer}", layer.ToString(System.Globalization.CultureInfo.InvariantCulture)), shape);
            }
        }
    }
}
