using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace ShadowKV.Runtime.Engine.Tokenization;

public sealed partial class ByteLevelBpeTextTokenizer
{
    // GPT-2's pattern: what a ByteLevel pre-tokenizer with use_regex=true splits by when no Split step is given.
    private const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    /// <summary>
    /// Loads a byte-level BPE <c>tokenizer.json</c>. <paramref name="bosToken"/> / <paramref name="eosTokens"/> are token
    /// texts (from tokenizer_config.json); <paramref name="extraEosIds"/> adds ids (from config.json).
    /// </summary>
    public static ByteLevelBpeTextTokenizer Load(string tokenizerJson, string? bosToken, IReadOnlyList<string> eosTokens, IReadOnlyList<int> extraEosIds)
    {
        if (!File.Exists(tokenizerJson))
        {
            throw new TokenizerException(tokenizerJson, "file not found.");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllText(tokenizerJson));
        }
        catch (JsonException e)
        {
            throw new TokenizerException(tokenizerJson, $"not valid JSON ({e.Message}).", e);
        }

        using (document)
        {
            JsonElement root = document.RootElement;
            JsonElement model = Property(root, "model", tokenizerJson);
            string? type = model.TryGetProperty("type", out JsonElement t) ? t.GetString() : null;
            if (type != "BPE")
            {
                throw new TokenizerException(tokenizerJson, $"model.type is '{type}', only BPE is supported here (a SentencePiece model loads from tokenizer.model).");
            }

            if (!IsByteLevel(root))
            {
                throw new TokenizerException(tokenizerJson, "not a byte-level BPE (no ByteLevel pre-tokenizer or decoder); a SentencePiece-style tokenizer.json is not supported, use tokenizer.model.");
            }

            Dictionary<string, int> vocab = ReadVocabulary(Property(model, "vocab", tokenizerJson), tokenizerJson);
            CheckMergeOrder(Property(model, "merges", tokenizerJson), vocab, tokenizerJson);
            Dictionary<string, int> special = ReadAddedTokens(root, tokenizerJson);
            string pattern = FindSplitPattern(root.GetProperty("pre_tokenizer")) ?? Gpt2Pattern;

            int vocabSize = Math.Max(vocab.Values.Max(), special.Count == 0 ? 0 : special.Values.Max()) + 1;
            var tokenBytes = new byte[vocabSize][];
            var ranks = new StringBuilder(vocab.Count * 16);
            foreach (var (text, id) in vocab.OrderBy(p => p.Value))
            {
                byte[] bytes = ByteLevelAlphabet.ToBytes(text, tokenizerJson);
                tokenBytes[id] = bytes;
                ranks.Append(Convert.ToBase64String(bytes)).Append(' ').Append(id).Append('\n');
            }

            foreach (var (text, id) in special)
            {
                tokenBytes[id] ??= Encoding.UTF8.GetBytes(text);
            }

            for (int id = 0; id < tokenBytes.Length; id++)
            {
                tokenBytes[id] ??= [];
            }

            var preTokenizer = new RegexPreTokenizer(new Regex(pattern, RegexOptions.Compiled), special);
            using var rankStream = new MemoryStream(Encoding.UTF8.GetBytes(ranks.ToString()));
            TiktokenTokenizer inner = TiktokenTokenizer.Create(rankStream, preTokenizer, normalizer: null, special);

            int? bosId = bosToken is null ? null : LookUp(bosToken, special, vocab, tokenizerJson, "bos_token");
            var eosIds = eosTokens.Select(e => LookUp(e, special, vocab, tokenizerJson, "eos_token")).Concat(extraEosIds).Distinct().ToList();
            return new ByteLevelBpeTextTokenizer(inner, tokenBytes, special, bosId, eosIds);
        }
    }

    private static JsonElement Property(JsonElement element, string name, string path) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out JsonElement value)
            ? value
            : throw new TokenizerException(path, $"has no '{name}'.");

    private static bool IsByteLevel(JsonElement root)
    {
        static bool Has(JsonElement e) =>
            e.ValueKind == JsonValueKind.Object
            && ((e.TryGetProperty("type", out JsonElement type) && type.GetString() == "ByteLevel")
                || (e.TryGetProperty("pretokenizers", out JsonElement list) && list.EnumerateArray().Any(Has))
                || (e.TryGetProperty("decoders", out JsonElement decoders) && decoders.EnumerateArray().Any(Has)));

        return (root.TryGetProperty("pre_tokenizer", out JsonElement pre) && Has(pre))
            || (root.TryGetProperty("decoder", out JsonElement decoder) && Has(decoder));
    }

    private static string? FindSplitPattern(JsonElement preTokenizer)
    {
        if (preTokenizer.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        if (preTokenizer.TryGetProperty("type", out JsonElement type) && type.GetString() == "Split"
            && preTokenizer.TryGetProperty("pattern", out JsonElement pattern)
            && pattern.TryGetProperty("Regex", out JsonElement regex))
        {
            return regex.GetString();
        }

        return preTokenizer.TryGetProperty("pretokenizers", out JsonElement list)
            ? list.EnumerateArray().Select(FindSplitPattern).FirstOrDefault(p => p is not null)
            : null;
    }

    private static Dictionary<string, int> ReadVocabulary(JsonElement vocab, string path)
    {
        var result = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (JsonProperty entry in vocab.EnumerateObject())
        {
            result[entry.Name] = entry.Value.TryGetInt32(out int id) && id >= 0
                ? id
                : throw new TokenizerException(path, $"vocab entry '{entry.Name}' has no non-negative integer id.");
        }

        return result;
    }

    private static Dictionary<string, int> ReadAddedTokens(JsonElement root, string path)
    {
        var result = new Dictionary<string, int>(StringComparer.Ordinal);
        if (root.TryGetProperty("added_tokens", out JsonElement added) && added.ValueKind == JsonValueKind.Array)
        {
            foreach (JsonElement token in added.EnumerateArray())
            {
                string content = Property(token, "content", path).GetString() ?? "";
                result[content] = Property(token, "id", path).GetInt32();
            }
        }

        return result;
    }

    // Merges are "a b" strings (older files) or ["a", "b"] pairs (tokenizers ≥ 0.20). Several merges may build the
    // same token (" " + "   " and "  " + "  "), so ids only need to be non-decreasing.
    private static void CheckMergeOrder(JsonElement merges, Dictionary<string, int> vocab, string path)
    {
        int previous = -1;
        int index = 0;
        foreach (JsonElement merge in merges.EnumerateArray())
        {
            string joined = merge.ValueKind == JsonValueKind.Array
                ? string.Concat(merge.EnumerateArray().Select(p => p.GetString()))
                : (merge.GetString() ?? "").Replace(" ", "", StringComparison.Ordinal);
            if (!vocab.TryGetValue(joined, out int id) || id < previous)
            {
                throw new TokenizerException(path,
                    $"merge #{index} ('{merge}') produces a token ranked before the previous merge's; this BPE's merge order differs from its id order, which the tiktoken-based encoder cannot reproduce.");
            }

            previous = id;
            index++;
        }
    }

    private static int LookUp(string token, Dictionary<string, int> special, Dictionary<string, int> vocab, string path, string field) =>
        special.TryGetValue(token, out int id) || vocab.TryGetValue(token, out id)
            ? id
            : throw new TokenizerException(path, $"{field} '{token}' is not a token of this vocabulary.");
}
