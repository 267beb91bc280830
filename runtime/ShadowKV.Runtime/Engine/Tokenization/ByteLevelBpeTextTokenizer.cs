using System;
using System.Collections.Generic;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace ShadowKV.Runtime.Engine.Tokenization;

/// <summary>
/// A Hugging Face <c>tokenizer.json</c> byte-level BPE (Llama-3, Qwen2). It runs on Microsoft.ML.Tokenizers'
/// tiktoken encoder: the vocabulary is converted to tiktoken ranks and the pre-tokenizer regex is taken from the file.
/// </summary>
/// <remarks>
/// Tiktoken merges by rank = id, which equals Hugging Face's merge order only when each merge's result has a larger id
/// than the previous merge's; loading checks that and refuses other vocabularies rather than tokenizing them wrongly.
/// </remarks>
public sealed partial class ByteLevelBpeTextTokenizer : ITextTokenizer
{
    private readonly TiktokenTokenizer _inner;
    private readonly byte[][] _tokenBytes;
    private readonly Dictionary<string, int> _specialTokens;
    private readonly HashSet<int> _specialIds;

    private ByteLevelBpeTextTokenizer(TiktokenTokenizer inner, byte[][] tokenBytes, Dictionary<string, int> specialTokens, int? bosId, IReadOnlyList<int> eosIds)
    {
        _inner = inner;
        _tokenBytes = tokenBytes;
        _specialTokens = specialTokens;
        _specialIds = [.. specialTokens.Values];
        VocabSize = tokenBytes.Length;
        BosId = bosId;
        EosIds = eosIds;
    }

    public int VocabSize { get; }

    public int? BosId { get; }

    public IReadOnlyList<int> EosIds { get; }

    /// <summary>Special tokens (added_tokens) by text.</summary>
    public IReadOnlyDictionary<string, int> SpecialTokens => _specialTokens;

    public IReadOnlyList<int> Encode(string text, bool addBos)
    {
        IReadOnlyList<int> ids = _inner.EncodeToIds(text);
        if (!addBos)
        {
            return ids;
        }

        int bos = BosId ?? throw new InvalidOperationException("This tokenizer has no BOS token (tokenizer_config.json names no bos_token).");
        var withBos = new List<int>(ids.Count + 1) { bos };
        withBos.AddRange(ids);
        return withBos;
    }

    public string Decode(IEnumerable<int> ids)
    {
        var bytes = new List<byte>();
        foreach (int id in ids)
        {
            bytes.AddRange(TokenBytes(id));
        }

        return Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes));
    }

    public ReadOnlySpan<byte> TokenBytes(int id)
    {
        if ((uint)id >= (uint)_tokenBytes.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(id), id, $"Token id outside the vocabulary [0, {VocabSize}).");
        }

        return _specialIds.Contains(id) ? ReadOnlySpan<byte>.Empty : _tokenBytes[id];
    }

    public bool IsSpecial(int id) => _specialIds.Contains(id);

    public int? TokenToId(string token)
    {
        if (_specialTokens.TryGetValue(token, out int special))
        {
            return special;
        }

        IReadOnlyList<int> ids = _inner.EncodeToIds(token);
        return ids.Count == 1 ? ids[0] : null;
    }

    public TokenStreamDecoder CreateStreamDecoder() => new(this, stripLeadingSpace: false);
}
