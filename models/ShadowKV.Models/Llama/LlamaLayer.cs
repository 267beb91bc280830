using ShadowKV.Compiler;

namespace ShadowKV.Models;

/// <summary>One Llama decoder layer's weights, named as in Hugging Face checkpoints (under model.layers.{layer}.).</summary>
public sealed class LlamaLayer
{
    [Weight("input_layernorm.weight", "hidden")]
    public required Tensor InputLayernorm { get; init; }

    [Weight("self_attn.q_proj.weight", "Hq*d", "hidden")]
    public required Tensor QProj { get; init; }

    [Weight("self_attn.k_proj.weight", "Hkv*d", "hidden")]
    public required Tensor KProj { get; init; }

    [Weight("self_attn.v_proj.weight", "Hkv*d", "hidden")]
    public required Tensor VProj { get; init; }

    [Weight("self_attn.o_proj.weight", "hidden", "Hq*d")]
    public required Tensor OProj { get; init; }

    [Weight("post_attention_layernorm.weight", "hidden")]
    public required Tensor PostAttentionLayernorm { get; init; }

    [Weight("mlp.gate_proj.weight", "ffn", "hidden")]
    public required Tensor GateProj { get; init; }

    [Weight("mlp.up_proj.weight", "ffn", "hidden")]
    public required Tensor UpProj { get; init; }

    [Weight("mlp.down_proj.weight", "hidden", "ffn")]
    public required Tensor DownProj { get; init; }
}
