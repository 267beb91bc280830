using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace ShadowKV.Runtime.Engine.Tokenization;

/// <summary>A SentencePiece <c>tokenizer.model</c> (Llama-2, Mistral, stories260K) through Microsoft.ML.Tokenizers.</summary>
public sealed class SentencePieceTextTokenizer : ITextTokenizer
{
    private readonly SentencePieceTokenizer _inner;
    private readonly byte[][] _pieceBytes;
    private readonly HashSet<int> _special;
    private readonly Dictionary<string, int> _byText;

    private SentencePieceTextTokenizer(SentencePieceTokenizer inner, IReadOnlyList<int> eosIds)
    {
        _inner = inner;
        _byText = new Dictionary<string, int>(inner.Vocabulary, StringComparer.Ordinal);
        VocabSize = _byText.Values.Max() + 1;
        _pieceBytes = new byte[VocabSize][];
        foreach (var (piece, id) in _byText)
        {
            _pieceBytes[id] = PieceBytes(piece);
        }

        BosId = inner.BeginningOfSentenceId;
        EosIds = eosIds.Count > 0 ? eosIds : [inner.EndOfSentenceId];
        _special = [inner.BeginningOfSentenceId, inner.EndOfSentenceId, .. EosIds];
        foreach (int id in _special)
        {
            _pieceBytes[id] = [];
        }

        // SentencePiece itself decodes the unknown piece as " ⁇ ".
        _pieceBytes[inner.UnknownId] = Encoding.UTF8.GetBytes(" \u2047 ");
    }

    public int VocabSize { get; }

    public int? BosId { get; }

    public IReadOnlyList<int> EosIds { get; }

    /// <summary>Loads <paramref name="modelFile"/>; <paramref name="eosIds"/> overrides the model's <c>&lt;/s&gt;</c> when non-empty.</summary>
    public static SentencePieceTextTokenizer Load(string modelFile, IReadOnlyList<int>? eosIds = null)
    {
        if (!File.Exists(modelFile))
        {
            throw new TokenizerException(modelFile, "file not found.");
        }

        try
        {
            using FileStream stream = File.OpenRead(modelFile);
            LlamaTokenizer inner = LlamaTokenizer.Create(stream, addBeginOfSentence: false, addEndOfSentence: false);
            return new SentencePieceTextTokenizer(inner, eosIds ?? []);
        }
        catch (Exception e) when (e is not TokenizerException and not IOException)
        {
            throw new TokenizerException(modelFile, $"not a SentencePiece model the tokenizer library can load ({e.Message}).", e);
        }
    }

    public IReadOnlyList<int> Encode(string text, bool addBos) =>
        _inner.EncodeToIds(text, addBeginningOfSentence: addBos, addEndOfSentence: false);

    public string Decode(IEnumerable<int> ids)
    {
        // Decoding through the piece bytes (rather than the library) keeps Decode and streaming identical by design.
        var decoder = CreateStreamDecoder();
        var text = new StringBuilder();
        foreach (int id in ids)
        {
            text.Append(decoder.DecodeToken(id));
        }

        return text.Append(decoder.Flush()).ToString();
    }

    public ReadOnlySpan<byte> TokenBytes(int id) =>
        (uint)id < (uint)_pieceBytes.Length && _pieceBytes[id] is { } bytes
            ? bytes
            : throw new ArgumentOutOfRangeException(nameof(id), id, $"Token id outside the vocabulary [0, {VocabSize}).");

    public bool IsSpecial(int id) => _special.Contains(id);

    public int? TokenToId(string token) => _byText.TryGetValue(token, out int id) ? id : null;

    public TokenStreamDecoder CreateStreamDecoder() => new(this, stripLeadingSpace: _inner.AddDummyPrefix);

    // "▁" stands for a space; "<0xNN>" byte-fallback pieces stand for one raw byte of a UTF-8 sequence.
    private static byte[] PieceBytes(string piece)
    {
        if (piece.Length == 6 && piece.StartsWith("<0x", StringComparison.Ordinal) && piece[5] == '>'
            && byte.TryParse(piece.AsSpan(3, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out byte value))
        {
            return [value];
        }

        return Encoding.UTF8.GetBytes(piece.Replace('\u2581', ' '));
    }
}
