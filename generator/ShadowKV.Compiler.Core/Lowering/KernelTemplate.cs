using ShadowKV.Compiler.Collections;

namespace ShadowKV.Compiler.Lowering;

/// <summary>
/// One CUDA kernel template in <c>Emit/Cuda/&lt;File&gt;</c>. The file declares exactly one <c>__global__</c>
/// template named <c>SKV_KERNEL</c>; the emitter renames it to the model's stable name
/// (<c>{model}_{phase}_{Suffix}</c>) and writes the fused-node comment above it. Device helpers in the file live in
/// <c>namespace skv_{Suffix}</c> so several templates can share one <c>.cu</c>.
/// </summary>
/// <param name="Op">The plan op (see OpContracts) this kernel implements.</param>
/// <param name="TemplateParameters">Symbols bound to the template's int parameters, in order (e.g. d, G).</param>
/// <param name="Parameters">Kernel parameters in order, each with its binding (in:ROLE, out:ROLE, sym:EXPR, attr:NAME).</param>
/// <param name="Grid">Grid x, y, z as size expressions.</param>
/// <param name="SharedBytes">Dynamic shared memory as a size expression.</param>
public sealed record KernelTemplate(
    string Op,
    string File,
    string Suffix,
    EquatableArray<string> TemplateParameters,
    EquatableArray<KernelParameter> Parameters,
    int BlockSize,
    EquatableArray<string> Grid,
    string SharedBytes);

/// <summary>A kernel parameter: its CUDA declaration and what the plan binds to it.</summary>
public sealed record KernelParameter(string Declaration, string Binding);
