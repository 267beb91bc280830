using System;
using System.Collections.Generic;
using System.Text;

namespace ShadowKV.Runtime.Engine.Tokenization;

/// <summary>
/// Turns a stream of generated ids into text as soon as it is complete. A token may end inside a multi-byte UTF-8
/// character (byte-level BPE, SentencePiece byte-fallback pieces); those bytes are held back until the character
/// completes, so concatenating every <see cref="DecodeToken"/> result and <see cref="Flush"/> equals
/// <see cref="ITextTokenizer.Decode"/> of the whole sequence.
/// </summary>
public sealed class TokenStreamDecoder
{
    private readonly ITextTokenizer _tokenizer;
    private readonly List<byte> _pending = new();
    private bool _stripLeadingSpace;

    /// <param name="tokenizer">Supplies each token's bytes.</param>
    /// <param name="stripLeadingSpace">
    /// SentencePiece prepends a space to the text it encodes ("dummy prefix"); its decoder drops the first space again.
    /// </param>
    public TokenStreamDecoder(ITextTokenizer tokenizer, bool stripLeadingSpace)
    {
        _tokenizer = tokenizer;
        _stripLeadingSpace = stripLeadingSpace;
    }

    /// <summary>Adds one token; returns the text completed by it (possibly empty).</summary>
    public string DecodeToken(int id)
    {
        ReadOnlySpan<byte> bytes = _tokenizer.TokenBytes(id);
        if (bytes.IsEmpty)
        {
            return "";
        }

        if (_stripLeadingSpace)
        {
            _stripLeadingSpace = false;
            if (bytes[0] == (byte)' ')
            {
                bytes = bytes[1..];
            }
        }

        foreach (byte b in bytes)
        {
            _pending.Add(b);
        }

        int complete = CompletePrefixLength(_pending);
        if (complete == 0)
        {
            return "";
        }

        string text = Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_pending)[..complete]);
        _pending.RemoveRange(0, complete);
        return text;
    }

    /// <summary>Returns whatever is held back (an unfinished character decodes to U+FFFD) and resets.</summary>
    public string Flush()
    {
        string text = Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_pending));
        _pending.Clear();
        return text;
    }

    // Length of the longest prefix that does not end inside a UTF-8 sequence that could still be completed.
    // Bytes that can never become valid are released (they decode to U+FFFD, as Decode does).
    private static int CompletePrefixLength(List<byte> bytes)
    {
        int n = bytes.Count;
        // A UTF-8 sequence is at most 4 bytes, so only the last 3 can be an unfinished start.
        for (int back = 1; back <= Math.Min(3, n); back++)
        {
            byte b = bytes[n - back];
            if ((b & 0xC0) == 0x80)
            {
                continue; // continuation byte: keep looking for its lead byte
            }

            int needed = b switch
            {
                >= 0xC2 and <= 0xDF => 2,
                >= 0xE0 and <= 0xEF => 3,
                >= 0xF0 and <= 0xF4 => 4,
                _ => 1, // ASCII, or a byte that can never start a valid sequence
            };
            return needed > back ? n - back : n;
        }

        return n;
    }
}
