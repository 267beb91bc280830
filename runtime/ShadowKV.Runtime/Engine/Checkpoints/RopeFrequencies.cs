using System;

namespace ShadowKV.Runtime.Engine.Checkpoints;

// Mirrors transformers' modeling_rope_utils: _compute_default_rope_parameters and _compute_llama3_parameters.
// Both run in float32 in PyTorch, so every step here is float32 too; doing it in double would move some
// frequencies by an ulp and the CPU oracle would drift from the reference logits over long contexts.
internal static class RopeFrequencies
{
    public static float[] Compute(long headDim, double theta, RopeScaling? scaling)
    {
        var inverse = new float[headDim / 2];
        float dim = headDim;
        float baseValue = (float)theta;
        for (int i = 0; i < inverse.Length; i++)
        {
            float exponent = (2 * i) / dim;
            inverse[i] = 1f / MathF.Pow(baseValue, exponent);
        }

        if (scaling is not null)
        {
            ApplyLlama3(inverse, scaling);
        }

        return inverse;
    }

    private static void ApplyLlama3(float[] inverse, RopeScaling scaling)
    {
        float factor = (float)scaling.Factor;
        float lowFreqFactor = (float)scaling.LowFreqFactor;
        float highFreqFactor = (float)scaling.HighFreqFactor;
        float oldContext = scaling.OriginalMaxPositionEmbeddings;
        float lowFreqWavelength = oldContext / lowFreqFactor;
        float highFreqWavelength = oldContext / highFreqFactor;
        for (int i = 0; i < inverse.Length; i++)
        {
            float wavelength = 2f * MathF.PI / inverse[i];
            float scaled = wavelength > lowFreqWavelength ? inverse[i] / factor : inverse[i];
            bool medium = !(wavelength < highFreqWavelength) && !(wavelength > lowFreqWavelength);
            if (medium)
            {
                float smooth = (oldContext / wavelength - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                scaled = (1f - smooth) * scaled / factor + smooth * scaled;
            }

            inverse[i] = scaled;
        }
    }
}
