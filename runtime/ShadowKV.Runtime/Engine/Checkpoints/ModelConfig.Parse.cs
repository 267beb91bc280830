using System;
using System.Collections.Generic;
using System.IO;
using System.Text.Json;

namespace ShadowKV.Runtime.Engine.Checkpoints;

// config.json is read with JsonDocument rather than the reflection serializer: the runtime is AOT-compatible, and
// the fields need per-field errors (and HF writes some of them in more than one shape, e.g. eos_token_id).
public sealed partial record ModelConfig
{
    /// <summary>Reads and validates <c>config.json</c>; <paramref name="path"/> is the file or its directory.</summary>
    public static ModelConfig Load(string path)
    {
        string file = Directory.Exists(path) ? Path.Combine(path, "config.json") : path;
        if (!File.Exists(file))
        {
            throw new ModelConfigException(file, null, "file not found; a Hugging Face model directory has a config.json.");
        }

        return Parse(File.ReadAllText(file), file);
    }

    /// <summary>Parses and validates config.json text; <paramref name="source"/> names it in errors.</summary>
    public static ModelConfig Parse(string json, string source)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            throw new ModelConfigException(source, null, $"not valid JSON ({e.Message})", e);
        }

        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new ModelConfigException(source, null, "expected a JSON object at the top level.");
            }

            var reader = new FieldReader(root, source);
            long hidden = reader.RequiredInt("hidden_size");
            long heads = reader.RequiredInt("num_attention_heads");
            string modelType = reader.OptionalString("model_type") ?? "";
            var config = new ModelConfig
            {
                Architectures = reader.StringList("architectures"),
                ModelType = modelType,
                HiddenSize = hidden,
                IntermediateSize = reader.RequiredInt("intermediate_size"),
                NumHiddenLayers = reader.RequiredInt("num_hidden_layers"),
                NumAttentionHeads = heads,
                NumKeyValueHeads = reader.OptionalInt("num_key_value_heads") ?? heads,
                HeadDim = reader.OptionalInt("head_dim") ?? (heads > 0 ? hidden / heads : 0),
                VocabSize = reader.RequiredInt("vocab_size"),
                MaxPositionEmbeddings = reader.RequiredInt("max_position_embeddings"),
                RopeTheta = reader.OptionalDouble("rope_theta") ?? 10000.0,
                RmsNormEps = reader.OptionalDouble("rms_norm_eps") ?? 1e-6,
                TieWordEmbeddings = reader.OptionalBool("tie_word_embeddings") ?? false,
                BosTokenId = (int?)reader.OptionalInt("bos_token_id"),
                EosTokenIds = reader.IntOrIntList("eos_token_id"),
                // Qwen2's modeling code hard-wires bias on q/k/v and writes no flag for it.
                AttentionBias = modelType == "qwen2" || (reader.OptionalBool("attention_bias") ?? false),
                RopeScaling = ReadRopeScaling(root, reader, source),
                TorchDtype = reader.OptionalString("torch_dtype") ?? reader.OptionalString("dtype"),
            };
            config.Validate(source);
            return config;
        }
    }

    /// <summary>
    /// Checks the invariants the engine relies on; throws <see cref="ModelConfigException"/> naming
    /// <paramref name="source"/> and the field. <see cref="Parse"/> and the presets call it; call it after <c>with</c>.
    /// </summary>
    public void Validate(string source)
    {
        Positive(source, "hidden_size", HiddenSize);
        Positive(source, "intermediate_size", IntermediateSize);
        Positive(source, "num_hidden_layers", NumHiddenLayers);
        Positive(source, "num_attention_heads", NumAttentionHeads);
        Positive(source, "num_key_value_heads", NumKeyValueHeads);
        Positive(source, "head_dim", HeadDim);
        Positive(source, "vocab_size", VocabSize);
        Positive(source, "max_position_embeddings", MaxPositionEmbeddings);
        if (NumAttentionHeads % NumKeyValueHeads != 0)
        {
            throw new ModelConfigException(source, "num_key_value_heads",
                $"num_attention_heads ({NumAttentionHeads}) is not a multiple of num_key_value_heads ({NumKeyValueHeads}); grouped-query attention needs whole groups.");
        }

        if (HeadDim % 2 != 0)
        {
            throw new ModelConfigException(source, "head_dim", $"{HeadDim} is odd; RoPE rotates pairs of dimensions.");
        }

        if (!(RopeTheta > 0) || double.IsInfinity(RopeTheta))
        {
            throw new ModelConfigException(source, "rope_theta", $"{RopeTheta} must be a positive finite number.");
        }

        if (!(RmsNormEps > 0) || double.IsInfinity(RmsNormEps))
        {
            throw new ModelConfigException(source, "rms_norm_eps", $"{RmsNormEps} must be a positive finite number.");
        }

        if (BosTokenId is { } bos && (bos < 0 || bos >= VocabSize))
        {
            throw new ModelConfigException(source, "bos_token_id", $"{bos} is outside the vocabulary [0, {VocabSize}).");
        }

        foreach (int eos in EosTokenIds)
        {
            if (eos < 0 || eos >= VocabSize)
            {
                throw new ModelConfigException(source, "eos_token_id", $"{eos} is outside the vocabulary [0, {VocabSize}).");
            }
        }
    }

    private static void Positive(string source, string field, long value)
    {
        if (value <= 0)
        {
            throw new ModelConfigException(source, field, $"{value} must be positive.");
        }
    }

    private static RopeScaling? ReadRopeScaling(JsonElement root, FieldReader reader, string source)
    {
        if (!root.TryGetProperty("rope_scaling", out JsonElement scaling) || scaling.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (scaling.ValueKind != JsonValueKind.Object)
        {
            throw new ModelConfigException(source, "rope_scaling", $"expected an object or null, found {scaling.ValueKind}.");
        }

        var inner = new FieldReader(scaling, source, "rope_scaling.");
        // Older configs spell the key "type"; transformers accepts both.
        string? type = inner.OptionalString("rope_type") ?? inner.OptionalString("type");
        switch (type)
        {
            case null or "default":
                return null;
            case "llama3":
                var result = new RopeScaling(
                    "llama3",
                    inner.RequiredDouble("factor"),
                    inner.RequiredDouble("low_freq_factor"),
                    inner.RequiredDouble("high_freq_factor"),
                    inner.RequiredInt("original_max_position_embeddings"));
                if (!(result.Factor > 0) || !(result.HighFreqFactor > result.LowFreqFactor) || !(result.LowFreqFactor > 0)
                    || result.OriginalMaxPositionEmbeddings <= 0)
                {
                    throw new ModelConfigException(source, "rope_scaling",
                        "llama3 scaling needs factor > 0, 0 < low_freq_factor < high_freq_factor and original_max_position_embeddings > 0.");
                }

                return result;
            default:
                throw new ModelConfigException(source, "rope_scaling.rope_type",
                    $"'{type}' is not supported; supported rope types are 'default' and 'llama3'.");
        }
    }
}
