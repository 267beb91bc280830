using System;

namespace ShadowKV.Runtime.Engine.Checkpoints;

/// <summary>A <c>config.json</c> (or preset) is missing a field or holds a value the engine cannot run.</summary>
public sealed class ModelConfigException : Exception
{
    /// <summary>Creates the exception; the message reads "<c>path</c>: field '<c>field</c>': <c>problem</c>".</summary>
    public ModelConfigException(string source, string? field, string problem, Exception? inner = null)
        : base(field is null ? $"{source}: {problem}" : $"{source}: field '{field}': {problem}", inner)
    {
        ConfigSource = source;
        Field = field;
    }

    /// <summary>The config.json path or preset name.</summary>
    public string ConfigSource { get; }

    /// <summary>The JSON field at fault, when there is one.</summary>
    public string? Field { get; }
}
