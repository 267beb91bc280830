using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using ShadowKV.Runtime.Engine.Tokenization;
using ShadowKV.Runtime.Tests.Support;

namespace ShadowKV.Runtime.Tests.Tokenization;

public class TokenizerTests
{
    private const string Prompt = "Once upon a time, there was a little girl named Lily.";

    private static ITextTokenizer Stories() =>
        SharedTokenizers.Stories260k();

    private static ITextTokenizer Llama3() =>
        SharedTokenizers.Llama3();

    private static ITextTokenizer Llama2() =>
        SharedTokenizers.Llama2();

    [Fact]
    public void Stories260kMatchesTheReferencePromptIds()
    {
        string reference = SharedData.RequireFile("models/stories260K/reference.json");
        using JsonDocument json = JsonDocument.Parse(File.ReadAllText(reference));
        int[] expected = json.RootElement.GetProperty("prompt_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        ITextTokenizer tokenizer = Stories();
        Assert.Equal(expected, tokenizer.Encode(json.RootElement.GetProperty("prompt").GetString()!, addBos: true));
        Assert.Equal([1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426], tokenizer.Encode(Prompt, addBos: true));
        Assert.Equal(1, tokenizer.BosId);
        Assert.Equal([2], tokenizer.EosIds);
        Assert.Equal(Prompt, tokenizer.Decode(expected));
    }

    [Fact]
    public void Stories260kDecodesTheReferenceContinuation()
    {
        string reference = SharedData.RequireFile("models/stories260K/reference.json");
        using JsonDocument json = JsonDocument.Parse(File.ReadAllText(reference));
        int[] ids = json.RootElement.GetProperty("prompt_greedy_100").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        string expected = json.RootElement.GetProperty("prompt_greedy_100_text").GetString()!;
        Assert.Equal(expected, Stories().Decode(ids));
        Assert.Equal(expected, StreamAll(Stories(), ids));
    }

    [Fact]
    public void Llama3KnownIds()
    {
        ITextTokenizer tokenizer = Llama3();
        Assert.Equal([12805, 5304, 264, 892, 11], tokenizer.Encode("Once upon a time,", addBos: false));
        Assert.Equal([128000, 12805, 5304, 264, 892, 11], tokenizer.Encode("Once upon a time,", addBos: true));
        Assert.Equal(128000, tokenizer.BosId);
        Assert.Contains(128001, tokenizer.EosIds);
        Assert.Equal(128256, tokenizer.VocabSize);
        Assert.Equal(128009, tokenizer.TokenToId("<|eot_id|>"));
        Assert.True(tokenizer.IsSpecial(128009));
        // Special-token text in the input is the special token, not its characters.
        Assert.Equal([128006, 882, 128007], tokenizer.Encode("<|start_header_id|>user<|end_header_id|>", addBos: false));
    }

    [Theory]
    [InlineData("llama3", 600_000)]
    [InlineData("llama2", 150_000)]
    public void RoundTripsTheEssays(string which, int characters)
    {
        string path = SharedData.RequireFile("data/haystack/pg_essays.txt");
        string text = File.ReadAllText(path);
        text = text[..Math.Min(characters, text.Length)];
        ITextTokenizer tokenizer = which == "llama3" ? Llama3() : Llama2();
        IReadOnlyList<int> ids = tokenizer.Encode(text, addBos: true);
        Assert.True(ids.Count > text.Length / 8, $"{ids.Count} tokens for {text.Length} characters");
        Assert.Equal(text, tokenizer.Decode(ids));
        int[] slice = ids.Take(20_000).ToArray();
        Assert.Equal(tokenizer.Decode(slice), StreamAll(tokenizer, slice));
    }

    [Fact]
    public void StreamingHoldsBackPartialUtf8()
    {
        // "é" is 2 bytes, "🦙" is 4: byte-level BPE and byte-fallback pieces both split them across tokens.
        const string text = "Café 🦙 naïve 日本語";
        foreach (ITextTokenizer tokenizer in new[] { Llama3(), Stories() })
        {
            IReadOnlyList<int> ids = tokenizer.Encode(text, addBos: true);
            TokenStreamDecoder decoder = tokenizer.CreateStreamDecoder();
            var pieces = ids.Select(decoder.DecodeToken).ToList();
            pieces.Add(decoder.Flush());
            Assert.DoesNotContain(pieces, p => p.Contains('\uFFFD'));
            Assert.Equal(text, string.Concat(pieces));
            Assert.Equal(text, tokenizer.Decode(ids));
        }
    }

    [Fact]
    public void StreamingByteFallbackReleasesAnEmojiOnlyWhenComplete()
    {
        ITextTokenizer tokenizer = Stories();
        // stories260K has no piece for 🦙, so SentencePiece spells it with four <0xNN> byte pieces.
        IReadOnlyList<int> ids = tokenizer.Encode("🦙", addBos: false);
        int[] bytePieces = ids.Where(id => tokenizer.TokenBytes(id).Length == 1 && tokenizer.TokenBytes(id)[0] >= 0x80).ToArray();
        Assert.Equal(4, bytePieces.Length);
        TokenStreamDecoder decoder = tokenizer.CreateStreamDecoder();
        string[] outputs = ids.Select(decoder.DecodeToken).ToArray();
        Assert.Equal("🦙", outputs[^1].TrimStart());
        Assert.All(outputs[..^1], o => Assert.True(o.Trim().Length == 0, $"'{o}' released early"));
    }

    [Fact]
    public void MissingTokenizerIsAClearError()
    {
        string empty = Path.Combine(Path.GetTempPath(), "skv-no-tokenizer-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(empty);
        try
        {
            var e = Assert.Throws<TokenizerException>(() => TokenizerLoader.Load(empty));
            Assert.Contains("neither tokenizer.json nor tokenizer.model", e.Message);
        }
        finally
        {
            Directory.Delete(empty);
        }
    }

    private static string StreamAll(ITextTokenizer tokenizer, IEnumerable<int> ids)
    {
        TokenStreamDecoder decoder = tokenizer.CreateStreamDecoder();
        var text = new StringBuilder();
        foreach (int id in ids)
        {
            text.Append(decoder.DecodeToken(id));
        }

        return text.Append(decoder.Flush()).ToString();
    }
}
