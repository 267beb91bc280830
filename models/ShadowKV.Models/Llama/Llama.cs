using ShadowKV.Compiler;

namespace ShadowKV.Models;

/// <summary>Llama-2/3/3.1 and Mistral: pre-norm decoder blocks with GQA attention and a SwiGLU MLP.</summary>
[Model(Architectures = new[] { "LlamaForCausalLM", "MistralForCausalLM" })]
[ShadowKV]
[WeightMap]
public static partial class Llama
{
    [Layer]
    private static Tensor Block(Tensor x, LlamaLayer w, AttentionContext ctx)
    {
        var h = Ops.RmsNorm(x, w.InputLayernorm, ctx.RmsEps);
        var q = Ops.Linear(h, w.QProj);
        var k = Ops.Linear(h, w.KProj);           // pre-RoPE keys: what ShadowKV factorises
        var v = Ops.Linear(h, w.VProj);
        var a = Ops.Attention(q, k, v, ctx);      // RoPE + cache + attention; the rewrite anchor
        x = x + Ops.Linear(a, w.OProj);
        var m = Ops.RmsNorm(x, w.PostAttentionLayernorm, ctx.RmsEps);
        return x + Ops.Linear(Ops.Silu(Ops.Linear(m, w.GateProj)) * Ops.Linear(m, w.UpProj), w.DownProj);
    }
}
