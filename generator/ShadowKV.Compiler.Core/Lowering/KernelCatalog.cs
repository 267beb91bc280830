using System.Collections.Generic;
using System.Linq;

namespace ShadowKV.Compiler.Lowering;

/// <summary>
/// Every CUDA kernel template the lowering can pick, split by concern into partial files: <c>KernelCatalog.Dense.cs</c>
/// (full attention, norms, elementwise, sampling) and <c>KernelCatalog.ShadowKV.cs</c> (the ShadowKV rewrites).
/// </summary>
/// <remarks>
/// Conventions shared by all entries:
/// <list type="bullet">
/// <item>An op implemented by several kernels has one entry per kernel, with the same <c>Op</c>, distinct suffixes,
/// listed in launch order (e.g. <c>decode_attention</c> then <c>decode_attention_combine</c>).</item>
/// <item>A template with no <c>TemplateParameters</c> is a plain <c>__global__</c> function (no <c>template&lt;&gt;</c>);
/// its NVRTC name expression is the bare kernel name.</item>
/// <item>Parameter bindings: <c>in:ROLE</c> / <c>out:ROLE</c> (roles of the op's <see cref="Plans.OpContract"/>),
/// <c>sym:EXPR</c> (an int size expression), <c>attr:NAME</c> (a float attribute), and <c>scratch:NAME</c>: a
/// device buffer private to the op's kernels (e.g. split-K partials), sized in bytes by
/// <see cref="ScratchBuffers"/>[NAME]; the memory plan gives it a transient arena slot live from the op's first kernel to
/// its last. Scratch is never an op role, so the CPU backend and the contracts do not see it.</item>
/// <item>Step-local symbols, bound by the lowering from the step's IR types (so one template serves every use):
/// <c>rows</c> = rows of the step's first output (T in a layer, B after the last-row gather), <c>row_words</c> = one
/// row of the first input in 32-bit words (a bf16 row of width W is W/2 words: the gather copies bits, not values).</item>
/// <item>Engine kernels that are not plan ops (sampling) use the roles named in their file's comment block
/// (<c>logits</c>, <c>temperature</c>, <c>top_k</c>, <c>top_p</c>, <c>uniform</c>, <c>tokens</c>).</item>
/// </list>
/// </remarks>
public static partial class KernelCatalog
{
    /// <summary>All templates: dense first, then ShadowKV; within a list, launch order.</summary>
    public static IReadOnlyList<KernelTemplate> All => [.. Dense, .. ShadowKV];

    /// <summary>Every scratch buffer of the catalog: name → byte size expression.</summary>
    public static IReadOnlyDictionary<string, string> ScratchBuffers =>
        DenseScratchBuffers.Concat(ShadowKVScratchBuffers).ToDictionary(p => p.Key, p => p.Value, System.StringComparer.Ordinal);
}
