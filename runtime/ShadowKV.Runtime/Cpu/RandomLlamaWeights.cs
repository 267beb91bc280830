using ShadowKV.Runtime.Engine.Checkpoints;
using ShadowKV.Runtime.Engine.Sampling;

namespace ShadowKV.Runtime.Cpu;

/// <summary>
/// Deterministic random weights for a Llama-family shape, under Hugging Face checkpoint names, for the built-in model
/// that runs with no download. Linear weights are N(0, 1/in) so activations stay O(1); norm weights are 1 + N(0, 0.01).
/// The same seed gives the same weights on every machine and .NET version (xoshiro256**, Box–Muller).
/// </summary>
public static class RandomLlamaWeights
{
    public static Dictionary<string, float[]> Create(ModelConfig config, ulong seed)
    {
        int hidden = (int)config.HiddenSize, ffn = (int)config.IntermediateSize, vocab = (int)config.VocabSize;
        int qWidth = (int)(config.NumAttentionHeads * config.HeadDim), kvWidth = (int)(config.NumKeyValueHeads * config.HeadDim);
        var random = new DeterministicRandom(seed);
        var weights = new Dictionary<string, float[]>(StringComparer.Ordinal);
        void Add(string name, int count, double scale, float offset = 0)
        {
            var values = new float[count];
            for (int i = 0; i < count; i++)
            {
                double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
                values[i] = offset + (float)(scale * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
            }

            weights.Add(name, values);
        }

        Add("model.embed_tokens.weight", vocab * hidden, 1);
        for (int l = 0; l < config.NumHiddenLayers; l++)
        {
            string p = $"model.layers.{l}.";
            Add(p + "input_layernorm.weight", hidden, 0.1, 1);
            Add(p + "self_attn.q_proj.weight", qWidth * hidden, 1 / Math.Sqrt(hidden));
            Add(p + "self_attn.k_proj.weight", kvWidth * hidden, 1 / Math.Sqrt(hidden));
            Add(p + "self_attn.v_proj.weight", kvWidth * hidden, 1 / Math.Sqrt(hidden));
            if (config.AttentionBias)
            {
                Add(p + "self_attn.q_proj.bias", qWidth, 0.1);
                Add(p + "self_attn.k_proj.bias", kvWidth, 0.1);
                Add(p + "self_attn.v_proj.bias", kvWidth, 0.1);
            }

            Add(p + "self_attn.o_proj.weight", hidden * qWidth, 1 / Math.Sqrt(qWidth));
            Add(p + "post_attention_layernorm.weight", hidden, 0.1, 1);
            Add(p + "mlp.gate_proj.weight", ffn * hidden, 1 / Math.Sqrt(hidden));
            Add(p + "mlp.up_proj.weight", ffn * hidden, 1 / Math.Sqrt(hidden));
            Add(p + "mlp.down_proj.weight", hidden * ffn, 1 / Math.Sqrt(ffn));
        }

        Add("model.norm.weight", hidden, 0.1, 1);
        Add("lm_head.weight", vocab * hidden, 1 / Math.Sqrt(hidden));
        return weights;
    }
}
