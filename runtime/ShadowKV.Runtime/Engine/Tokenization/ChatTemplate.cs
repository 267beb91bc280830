using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace ShadowKV.Runtime.Engine.Tokenization;

/// <summary>One chat turn; <see cref="Role"/> is system, user or assistant.</summary>
public sealed record ChatMessage(string Role, string Content);

/// <summary>
/// A model family's chat prompt format, hand-written (not a Jinja engine). A prompt is a sequence of parts: literal
/// text and special tokens, so encoding never depends on the tokenizer recognising special-token text.
/// </summary>
public abstract class ChatTemplate
{
    /// <summary>One piece of a formatted prompt: text, or a special token (by its text, e.g. <c>&lt;|eot_id|&gt;</c>).</summary>
    public readonly record struct Part(string Text, bool IsSpecial);

    /// <summary>Template name: llama3, llama2 or chatml.</summary>
    public abstract string Name { get; }

    /// <summary>The prompt for <paramref name="messages"/>, ending where the assistant's reply begins.</summary>
    public abstract IReadOnlyList<Part> Format(IReadOnlyList<ChatMessage> messages);

    /// <summary>The prompt as one string (special tokens written as their text), for logs and tests.</summary>
    public string FormatText(IReadOnlyList<ChatMessage> messages) => string.Concat(Format(messages).Select(p => p.Text));

    /// <summary>Encodes the prompt: special parts by id, text parts with <see cref="ITextTokenizer.Encode"/>.</summary>
    public virtual IReadOnlyList<int> Encode(ITextTokenizer tokenizer, IReadOnlyList<ChatMessage> messages)
    {
        var ids = new List<int>();
        foreach (Part part in Format(messages))
        {
            if (part.IsSpecial)
            {
                ids.Add(tokenizer.TokenToId(part.Text)
                    ?? throw new InvalidOperationException($"Chat template '{Name}' needs special token '{part.Text}', which the tokenizer lacks."));
            }
            else if (part.Text.Length > 0)
            {
                ids.AddRange(tokenizer.Encode(part.Text, addBos: false));
            }
        }

        return ids;
    }

    /// <summary>
    /// The template for a model: by <c>model_type</c>, and for <c>llama</c> by whether the tokenizer has Llama-3's
    /// header tokens (Llama-2 and Llama-3 share the model type).
    /// </summary>
    public static ChatTemplate For(string modelType, ITextTokenizer tokenizer) => modelType switch
    {
        "llama" when tokenizer.TokenToId("<|start_header_id|>") is not null => new Llama3ChatTemplate(),
        "llama" or "mistral" => new Llama2ChatTemplate(),
        "qwen2" => new ChatMLTemplate(),
        _ => throw new NotSupportedException($"No chat template for model_type '{modelType}'; supported: llama (2 and 3), mistral, qwen2."),
    };

    private protected static Part Text(string text) => new(text, false);

    private protected static Part Special(string token) => new(token, true);
}

/// <summary>Llama-3 instruct: <c>&lt;|start_header_id|&gt;role&lt;|end_header_id|&gt;\n\ncontent&lt;|eot_id|&gt;</c>.</summary>
public sealed class Llama3ChatTemplate : ChatTemplate
{
    public override string Name => "llama3";

    public override IReadOnlyList<Part> Format(IReadOnlyList<ChatMessage> messages)
    {
        var parts = new List<Part> { Special("<|begin_of_text|>") };
        foreach (ChatMessage message in messages)
        {
            parts.AddRange([Special("<|start_header_id|>"), Text(message.Role), Special("<|end_header_id|>"),
                Text("\n\n" + message.Content.Trim()), Special("<|eot_id|>")]);
        }

        parts.AddRange([Special("<|start_header_id|>"), Text("assistant"), Special("<|end_header_id|>"), Text("\n\n")]);
        return parts;
    }
}

/// <summary>ChatML (Qwen2): <c>&lt;|im_start|&gt;role\ncontent&lt;|im_end|&gt;\n</c>, with Qwen2's default system prompt.</summary>
public sealed class ChatMLTemplate : ChatTemplate
{
    public const string DefaultSystemPrompt = "You are a helpful assistant.";

    public override string Name => "chatml";

    public override IReadOnlyList<Part> Format(IReadOnlyList<ChatMessage> messages)
    {
        var parts = new List<Part>();
        IEnumerable<ChatMessage> turns = messages.Count > 0 && messages[0].Role == "system"
            ? messages
            : messages.Prepend(new ChatMessage("system", DefaultSystemPrompt));
        foreach (ChatMessage message in turns)
        {
            parts.AddRange([Special("<|im_start|>"), Text($"{message.Role}\n{message.Content}"), Special("<|im_end|>"), Text("\n")]);
        }

        parts.AddRange([Special("<|im_start|>"), Text("assistant\n")]);
        return parts;
    }
}

/// <summary>
/// Llama-2 chat (also Mistral): <c>&lt;s&gt;[INST] user [/INST] answer &lt;/s&gt;</c> per exchange, the system prompt
/// folded into the first user turn inside <c>&lt;&lt;SYS&gt;&gt;</c>. Each exchange is one text part because Meta's
/// reference encodes it with a single SentencePiece call (one dummy-prefix space).
/// </summary>
public sealed class Llama2ChatTemplate : ChatTemplate
{
    public override string Name => "llama2";

    public override IReadOnlyList<Part> Format(IReadOnlyList<ChatMessage> messages)
    {
        var turns = messages.ToList();
        if (turns.Count > 0 && turns[0].Role == "system")
        {
            if (turns.Count < 2 || turns[1].Role != "user")
            {
                throw new ArgumentException("A Llama-2 system prompt must be followed by a user message.", nameof(messages));
            }

            turns[1] = turns[1] with { Content = $"<<SYS>>\n{turns[0].Content.Trim()}\n<</SYS>>\n\n{turns[1].Content.Trim()}" };
            turns.RemoveAt(0);
        }

        var parts = new List<Part>();
        for (int i = 0; i < turns.Count; i += 2)
        {
            if (turns[i].Role != "user" || (i + 1 < turns.Count && turns[i + 1].Role != "assistant"))
            {
                throw new ArgumentException("Llama-2 chat alternates user and assistant messages, starting with user.", nameof(messages));
            }

            string prompt = $"[INST] {turns[i].Content.Trim()} [/INST]";
            parts.Add(Special("<s>"));
            if (i + 1 < turns.Count)
            {
                parts.AddRange([Text($"{prompt} {turns[i + 1].Content.Trim()} "), Special("</s>")]);
            }
            else
            {
                parts.Add(Text(prompt));
            }
        }

        return parts;
    }
}
