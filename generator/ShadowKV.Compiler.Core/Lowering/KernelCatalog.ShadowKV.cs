using System.Collections.Generic;

namespace ShadowKV.Compiler.Lowering;

// Placeholder so this branch builds on its own: the ShadowKV kernel entries are written on another branch, whose
// KernelCatalog.ShadowKV.cs replaces this file when the branches meet.
public static partial class KernelCatalog
{
    /// <summary>The ShadowKV templates, in launch order.</summary>
    public static IReadOnlyList<KernelTemplate> ShadowKV => [];
}
