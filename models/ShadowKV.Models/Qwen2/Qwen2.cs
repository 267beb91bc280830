using ShadowKV.Compiler;

namespace ShadowKV.Models;

/// <summary>Qwen2: the Llama block with biases on the q/k/v projections.</summary>
[Model(Architectures = new[] { "Qwen2ForCausalLM" })]
[ShadowKV]
[WeightMap]
public static partial class Qwen2
{
    [Layer]
    private static Tensor Block(Tensor x, Qwen2Layer w, AttentionContext ctx)
    {
        var h = Ops.RmsNorm(x, w.InputLayernorm, ctx.RmsEps);
        var q = Ops.Linear(h, w.QProj, w.QBias);
        var k = Ops.Linear(h, w.KProj, w.KBias);
        var v = Ops.Linear(h, w.VProj, w.VBias);
        var a = Ops.Attention(q, k, v, ctx);
        x = x + Ops.Linear(a, w.OProj);
        var m = Ops.RmsNorm(x, w.PostAttentionLayernorm, ctx.RmsEps);
        return x + Ops.Linear(Ops.Silu(Ops.Linear(m, w.GateProj)) * Ops.Linear(m, w.UpProj), w.DownProj);
    }
}
