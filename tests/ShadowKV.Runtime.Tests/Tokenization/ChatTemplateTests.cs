using System;
using System.Collections.Generic;
using System.Linq;
using ShadowKV.Runtime.Engine.Tokenization;
using ShadowKV.Runtime.Tests.Support;

namespace ShadowKV.Runtime.Tests.Tokenization;

public class ChatTemplateTests
{
    private static readonly ChatMessage[] Conversation =
    [
        new("system", "Be brief."),
        new("user", " Hi! "),
        new("assistant", "Hello."),
        new("user", "Who are you?"),
    ];

    [Fact]
    public void Llama3FormatsHeadersAndEndsWithTheAssistantHeader()
    {
        Assert.Equal(
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>" +
            "<|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|>" +
            "<|start_header_id|>assistant<|end_header_id|>\n\nHello.<|eot_id|>" +
            "<|start_header_id|>user<|end_header_id|>\n\nWho are you?<|eot_id|>" +
            "<|start_header_id|>assistant<|end_header_id|>\n\n",
            new Llama3ChatTemplate().FormatText(Conversation));
    }

    [Fact]
    public void Llama3EncodesSpecialPartsById()
    {
        ITextTokenizer tokenizer = SharedTokenizers.Llama3();
        ChatTemplate template = ChatTemplate.For("llama", tokenizer);
        Assert.IsType<Llama3ChatTemplate>(template);
        IReadOnlyList<int> ids = template.Encode(tokenizer, [new("user", "Hi")]);
        // <|begin_of_text|> <|start_header_id|> user <|end_header_id|> \n\n Hi <|eot_id|> <|start_header_id|> assistant <|end_header_id|> \n\n
        Assert.Equal([128000, 128006, 882, 128007, 271, 13347, 128009, 128006, 78191, 128007, 271], ids);
        Assert.Equal(ids, tokenizer.Encode(template.FormatText([new("user", "Hi")]), addBos: false));
    }

    [Fact]
    public void Llama2FoldsTheSystemPromptIntoTheFirstTurn()
    {
        Assert.Equal(
            "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi! [/INST] Hello. </s><s>[INST] Who are you? [/INST]",
            new Llama2ChatTemplate().FormatText(Conversation));
        Assert.Throws<ArgumentException>(() => new Llama2ChatTemplate().Format([new("assistant", "x")]));
    }

    [Fact]
    public void Llama2EncodesEachExchangeWithBosAndEos()
    {
        ITextTokenizer tokenizer = SharedTokenizers.Llama2();
        ChatTemplate template = ChatTemplate.For("llama", tokenizer);
        Assert.IsType<Llama2ChatTemplate>(template);
        IReadOnlyList<int> ids = template.Encode(tokenizer, [new("user", "Hi"), new("assistant", "Yo"), new("user", "Ok")]);
        // Meta's reference: encode("[INST] Hi [/INST] Yo ", bos, eos) + encode("[INST] Ok [/INST]", bos).
        int[] expected =
        [
            .. tokenizer.Encode("[INST] Hi [/INST] Yo ", addBos: true), 2,
            .. tokenizer.Encode("[INST] Ok [/INST]", addBos: true),
        ];
        Assert.Equal(expected, ids);
        Assert.Equal(1, ids[0]);
        Assert.Equal(2, ids.Count(id => id == 1));
    }

    [Fact]
    public void ChatMLAddsQwenDefaultSystemPrompt()
    {
        Assert.Equal(
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
            new ChatMLTemplate().FormatText([new("user", "Hi")]));
        Assert.StartsWith("<|im_start|>system\nBe brief.<|im_end|>\n", new ChatMLTemplate().FormatText(Conversation));
        Assert.IsType<ChatMLTemplate>(ChatTemplate.For("qwen2", new FakeTokenizer()));
        Assert.IsType<Llama2ChatTemplate>(ChatTemplate.For("mistral", new FakeTokenizer()));
        Assert.Throws<NotSupportedException>(() => ChatTemplate.For("gpt2", new FakeTokenizer()));
    }

    private sealed class FakeTokenizer : ITextTokenizer
    {
        public int VocabSize => 0;

        public int? BosId => null;

        public IReadOnlyList<int> EosIds => [];

        public IReadOnlyList<int> Encode(string text, bool addBos) => [];

        public string Decode(IEnumerable<int> ids) => "";

        public ReadOnlySpan<byte> TokenBytes(int id) => [];

        public bool IsSpecial(int id) => false;

        public int? TokenToId(string token) => null;

        public TokenStreamDecoder CreateStreamDecoder() => new(this, false);
    }
}
