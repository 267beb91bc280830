using System;

namespace ShadowKV.Runtime.Engine.Checkpoints;

/// <summary>
/// A checkpoint (safetensors file, shard index or weight binding) is unusable. The message names the file, the tensor
/// and the problem, and where it can, the fix.
/// </summary>
public sealed class CheckpointException : Exception
{
    /// <summary>Creates the exception; <paramref name="path"/> and <paramref name="tensor"/> are prefixed to the message.</summary>
    public CheckpointException(string path, string? tensor, string problem, Exception? inner = null)
        : base(Compose(path, tensor, problem), inner)
    {
        Path = path;
        Tensor = tensor;
    }

    /// <summary>The file (or directory) the problem was found in.</summary>
    public string Path { get; }

    /// <summary>The tensor concerned, when there is one.</summary>
    public string? Tensor { get; }

    private static string Compose(string path, string? tensor, string problem) =>
        tensor is null ? $"{path}: {problem}" : $"{path}: tensor '{tensor}': {problem}";
}
