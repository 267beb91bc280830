using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace ShadowKV.Runtime.Engine.Checkpoints;

/// <summary>
/// A Hugging Face model directory: validated <c>config.json</c>, mapped safetensors and which tokenizer files exist.
/// Dispose to unmap the checkpoint.
/// </summary>
public sealed class ModelDirectory : IDisposable
{
    private ModelDirectory(string path, ModelConfig config, SafetensorsCheckpoint checkpoint, string architecture)
    {
        Path = path;
        Config = config;
        Checkpoint = checkpoint;
        Architecture = architecture;
    }

    public string Path { get; }

    public ModelConfig Config { get; }

    public SafetensorsCheckpoint Checkpoint { get; }

    /// <summary>The config.json architecture that a registered model class claimed.</summary>
    public string Architecture { get; }

    /// <summary>Hugging Face <c>tokenizer.json</c>, when present.</summary>
    public string? TokenizerJson => Existing("tokenizer.json");

    /// <summary>SentencePiece <c>tokenizer.model</c>, when present.</summary>
    public string? TokenizerModel => Existing("tokenizer.model");

    public bool HasTokenizer => TokenizerJson is not null || TokenizerModel is not null;

    /// <summary>
    /// Opens <paramref name="path"/>. <paramref name="supportedArchitectures"/> are those the registered (generated)
    /// model classes claim; a config naming none of them is refused with the supported list.
    /// </summary>
    public static ModelDirectory Open(string path, IReadOnlyCollection<string> supportedArchitectures)
    {
        path = System.IO.Path.GetFullPath(path);
        if (!Directory.Exists(path))
        {
            throw new CheckpointException(path, null, "model directory not found.");
        }

        ModelConfig config = ModelConfig.Load(path);
        string? architecture = config.Architectures.FirstOrDefault(a => supportedArchitectures.Contains(a, StringComparer.Ordinal));
        if (architecture is null)
        {
            string found = config.Architectures.Count == 0 ? "none" : string.Join(", ", config.Architectures);
            string supported = string.Join(", ", supportedArchitectures.Order(StringComparer.Ordinal));
            throw new ModelConfigException(System.IO.Path.Combine(path, "config.json"), "architectures",
                $"{found} is not supported; supported architectures: {supported}.");
        }

        return new ModelDirectory(path, config, SafetensorsCheckpoint.Open(path), architecture);
    }

    public void Dispose() => Checkpoint.Dispose();

    private string? Existing(string file)
    {
        string candidate = System.IO.Path.Combine(Path, file);
        return File.Exists(candidate) ? candidate : null;
    }
}
