using System;

namespace ShadowKV.Compiler;

/// <summary>
/// A symbolic activation or weight in a graph method. Graph methods are read by the source generator and never run,
/// so every member throws when called at run time.
/// </summary>
public sealed class Tensor
{
    private Tensor()
    {
    }

    public static Tensor operator +(Tensor a, Tensor b) => throw Ops.NotExecutable();

    public static Tensor operator *(Tensor a, Tensor b) => throw Ops.NotExecutable();
}

/// <summary>What the attention node and the norms read from the model's configuration.</summary>
public sealed class AttentionContext
{
    private AttentionContext()
    {
    }

    /// <summary>RMSNorm epsilon from <c>config.json</c> (<c>rms_norm_eps</c>).</summary>
    public float RmsEps => throw Ops.NotExecutable();
}

/// <summary>The operations a graph method may call. Each becomes one IR node.</summary>
public static class Ops
{
    /// <summary>RMSNorm over the last dimension, scaled by <paramref name="weight"/> (shape [hidden]).</summary>
    public static Tensor RmsNorm(Tensor x, Tensor weight, float eps) => throw NotExecutable();

    /// <summary>x·Wᵀ with W in Hugging Face [out, in] layout.</summary>
    public static Tensor Linear(Tensor x, Tensor weight) => throw NotExecutable();

    /// <summary>x·Wᵀ + bias.</summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor bias) => throw NotExecutable();

    /// <summary>x·sigmoid(x).</summary>
    public static Tensor Silu(Tensor x) => throw NotExecutable();

    /// <summary>
    /// Causal self-attention of pre-RoPE q [T, Hq·d], k and v [T, Hkv·d]: applies RoPE, appends to the KV cache and
    /// attends. This node is where the ShadowKV rewrites apply.
    /// </summary>
    public static Tensor Attention(Tensor q, Tensor k, Tensor v, AttentionContext ctx) => throw NotExecutable();

    internal static InvalidOperationException NotExecutable() =>
        new("Graph methods are compiled by the ShadowKV source generator and are never executed; use the generated Plan.");
}
