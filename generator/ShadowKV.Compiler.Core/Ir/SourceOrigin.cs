namespace ShadowKV.Compiler.Ir;

/// <summary>The C# line that created a node; generated CUDA names it above each fused kernel.</summary>
/// <param name="File">File name (no directory, so output does not depend on where the repository lives).</param>
/// <param name="Line">1-based line.</param>
/// <param name="Column">1-based column.</param>
/// <param name="Text">The source expression, trimmed, for comments.</param>
/// <param name="Start">Character offset in the file (for diagnostics' locations; never printed).</param>
/// <param name="Length">Length of the source expression in characters.</param>
public sealed record SourceOrigin(string File, int Line, int Column, string Text, int Start = 0, int Length = 0)
{
    /// <summary>Nodes the compiler adds itself (metadata inputs, prologue, epilogue) come from the model's attributes.</summary>
    public static SourceOrigin Compiler(string file, string what) => new(file, 0, 0, what);

    public override string ToString() => Line > 0 ? $"{File}:{Line}" : $"{File}:{Text}";
}
