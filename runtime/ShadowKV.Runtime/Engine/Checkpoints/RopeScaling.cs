namespace ShadowKV.Runtime.Engine.Checkpoints;

/// <summary>
/// Llama-3.1 RoPE frequency scaling (<c>rope_scaling.rope_type == "llama3"</c>): long wavelengths are divided by
/// <see cref="Factor"/>, short ones kept, and the band between smoothly interpolated.
/// </summary>
public sealed record RopeScaling(
    string RopeType,
    double Factor,
    double LowFreqFactor,
    double HighFreqFactor,
    long OriginalMaxPositionEmbeddings);
