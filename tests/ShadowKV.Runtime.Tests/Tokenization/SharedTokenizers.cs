using System;
using ShadowKV.Runtime.Engine.Tokenization;
using ShadowKV.Runtime.Tests.Support;

namespace ShadowKV.Runtime.Tests.Tokenization;

// Loading the 9 MB Llama-3 tokenizer.json takes about a second; tests share one instance of each (tokenizers are
// immutable after loading). RequireDirectory runs on every call so a missing folder still skips each test.
internal static class SharedTokenizers
{
    private static readonly Lazy<ITextTokenizer> Llama3Tokenizer = new(() => TokenizerLoader.Load(SharedData.Root + "/tokenizers/llama3"));
    private static readonly Lazy<ITextTokenizer> Llama2Tokenizer = new(() => TokenizerLoader.Load(SharedData.Root + "/tokenizers/llama2"));
    private static readonly Lazy<ITextTokenizer> StoriesTokenizer = new(() => TokenizerLoader.Load(SharedData.Root + "/models/stories260K"));

    public static ITextTokenizer Llama3() => Require("tokenizers/llama3", Llama3Tokenizer);

    public static ITextTokenizer Llama2() => Require("tokenizers/llama2", Llama2Tokenizer);

    public static ITextTokenizer Stories260k() => Require("models/stories260K", StoriesTokenizer);

    private static ITextTokenizer Require(string relative, Lazy<ITextTokenizer> tokenizer)
    {
        SharedData.RequireDirectory(relative);
        return tokenizer.Value;
    }
}
