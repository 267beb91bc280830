using System;
using System.Collections.Generic;
using System.IO;
using System.Text.Json;

namespace ShadowKV.Runtime.Engine.Tokenization;

/// <summary>Picks and loads the tokenizer of a model directory.</summary>
public static class TokenizerLoader
{
    /// <summary>
    /// Loads <c>tokenizer.json</c> (byte-level BPE) when present, else <c>tokenizer.model</c> (SentencePiece), with
    /// BOS/EOS from <c>tokenizer_config.json</c>. <paramref name="configEosIds"/> (config.json's eos_token_id) are
    /// added to the stop ids: instruct models list their end-of-turn token there.
    /// </summary>
    public static ITextTokenizer Load(string modelDirectory, IReadOnlyList<int>? configEosIds = null)
    {
        string json = Path.Combine(modelDirectory, "tokenizer.json");
        string model = Path.Combine(modelDirectory, "tokenizer.model");
        string configFile = Path.Combine(modelDirectory, "tokenizer_config.json");
        (string? bos, string? eos) = ReadSpecialTokenNames(configFile);
        configEosIds ??= [];
        if (File.Exists(json))
        {
            return ByteLevelBpeTextTokenizer.Load(json, bos, eos is null ? [] : [eos], configEosIds);
        }

        if (File.Exists(model))
        {
            return SentencePieceTextTokenizer.Load(model, configEosIds);
        }

        throw new TokenizerException(modelDirectory, "has neither tokenizer.json nor tokenizer.model; copy the tokenizer files from the model's repository.");
    }

    // bos_token / eos_token are a string, or an AddedToken object {"content": ...} in older files.
    private static (string? Bos, string? Eos) ReadSpecialTokenNames(string configFile)
    {
        if (!File.Exists(configFile))
        {
            return (null, null);
        }

        try
        {
            using JsonDocument document = JsonDocument.Parse(File.ReadAllText(configFile));
            JsonElement root = document.RootElement;
            return (TokenName(root, "bos_token"), TokenName(root, "eos_token"));
        }
        catch (JsonException e)
        {
            throw new TokenizerException(configFile, $"not valid JSON ({e.Message}).", e);
        }
    }

    private static string? TokenName(JsonElement root, string field)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty(field, out JsonElement value))
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Object when value.TryGetProperty("content", out JsonElement content) => content.GetString(),
            _ => null,
        };
    }
}
