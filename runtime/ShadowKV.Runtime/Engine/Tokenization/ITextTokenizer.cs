using System;
using System.Collections.Generic;

namespace ShadowKV.Runtime.Engine.Tokenization;

/// <summary>
/// Text ↔ token ids for one model. Implementations: SentencePiece <c>tokenizer.model</c> and byte-level BPE
/// <c>tokenizer.json</c>; <see cref="TokenizerLoader.Load"/> picks one for a model directory.
/// </summary>
public interface ITextTokenizer
{
    /// <summary>Largest id + 1, special tokens included.</summary>
    int VocabSize { get; }

    /// <summary>Beginning-of-sequence id, when the model has one.</summary>
    int? BosId { get; }

    /// <summary>Every id that ends generation.</summary>
    IReadOnlyList<int> EosIds { get; }

    /// <summary>
    /// Encodes <paramref name="text"/>, prefixing <see cref="BosId"/> when <paramref name="addBos"/>. Special-token text
    /// (e.g. <c>&lt;|eot_id|&gt;</c>) in the input is encoded as that special token.
    /// </summary>
    IReadOnlyList<int> Encode(string text, bool addBos);

    /// <summary>Decodes ids to text, skipping special tokens; invalid UTF-8 becomes U+FFFD.</summary>
    string Decode(IEnumerable<int> ids);

    /// <summary>The raw bytes token <paramref name="id"/> stands for (empty for special tokens).</summary>
    ReadOnlySpan<byte> TokenBytes(int id);

    /// <summary>Whether <paramref name="id"/> is a special/control token (BOS, EOS, chat markers).</summary>
    bool IsSpecial(int id);

    /// <summary>The id of a token given by its text (special tokens included), or null.</summary>
    int? TokenToId(string token);

    /// <summary>A decoder for streaming output one token at a time (see <see cref="TokenStreamDecoder"/>).</summary>
    TokenStreamDecoder CreateStreamDecoder();
}

/// <summary>A tokenizer file is missing, malformed or of a kind the engine cannot run.</summary>
public sealed class TokenizerException(string path, string problem, Exception? inner = null)
    : Exception($"{path}: {problem}", inner)
{
    /// <summary>The tokenizer file or model directory concerned.</summary>
    public string Path { get; } = path;
}
