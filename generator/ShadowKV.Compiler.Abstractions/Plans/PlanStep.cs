using System.Collections.Generic;

namespace ShadowKV.Compiler.Plans;

/// <summary>How long a buffer lives, which decides where the memory plan puts it.</summary>
public enum BufferLifetime
{
    /// <summary>Lives within one step of one layer; arena slots are reused between such buffers.</summary>
    Transient,

    /// <summary>Carried between layers within one forward pass (the residual stream).</summary>
    Pass,

    /// <summary>Belongs to a sequence across steps, one copy per layer (KV cache, ShadowKV factors, landmarks).</summary>
    Cache,

    /// <summary>Like <see cref="Cache"/> but in pinned host memory (offloaded values).</summary>
    HostCache,
}

public enum DataType
{
    F32,
    BF16,
    I32,
}

/// <summary>
/// A named buffer. <see cref="Shape"/> dims are symbolic; <see cref="Offset"/> is its byte offset in the arena
/// (Transient/Pass) or within one layer's cache block (Cache/HostCache).
/// </summary>
public sealed record BufferSpec(string Name, IReadOnlyList<string> Shape, DataType Type, BufferLifetime Lifetime, string Offset);

/// <summary>Where the work of a step runs.</summary>
public enum StepKind
{
    /// <summary>An emitted CUDA kernel.</summary>
    Kernel,

    /// <summary>A dense GEMM for cuBLASLt.</summary>
    Gemm,

    /// <summary>A library call that is not a GEMM (cuSOLVER eigensolver).</summary>
    Solver,
}

/// <summary>
/// One step of a phase. <see cref="Op"/> and <see cref="Attributes"/> say what it computes (the CPU backend's
/// contract); <see cref="Launch"/> or <see cref="Gemm"/> say how the GPU runs it.
/// </summary>
public sealed record PlanStep(
    string Node,
    string Op,
    StepScope Scope,
    StepKind Kind,
    IReadOnlyList<string> Inputs,
    IReadOnlyList<string> Outputs,
    IReadOnlyDictionary<string, string> Attributes,
    string Stream,
    IReadOnlyList<string> WaitEvents,
    string? RecordEvent,
    KernelLaunch? Launch,
    GemmDescriptor? Gemm,
    string Origin);

/// <summary>Whether a step runs once before the layers, once per layer, or once after.</summary>
public enum StepScope
{
    Prologue,
    Layer,
    Epilogue,
}

/// <summary>
/// A kernel launch: <see cref="Kernel"/> is the kernel's name and <see cref="TemplateArguments"/> its template
/// arguments as symbolic expressions (the runtime forms the NVRTC name expression, e.g.
/// <c>llama_decode_attention&lt;128,4&gt;</c>); grid and shared memory are symbolic. Each entry of
/// <see cref="Arguments"/> binds one kernel parameter, in order: <c>in:ROLE</c> / <c>out:ROLE</c> (the step's
/// input/output with that role in its <see cref="OpContract"/>), <c>sym:EXPR</c> (a size expression, passed as int),
/// or <c>attr:NAME</c> (a float attribute of the step, e.g. eps).
/// </summary>
public sealed record KernelLaunch(
    string Kernel,
    IReadOnlyList<string> TemplateArguments,
    IReadOnlyList<string> Arguments,
    IReadOnlyList<string> Grid,
    IReadOnlyList<int> Block,
    string SharedBytes);

/// <summary>C[M,N] = A[M,K]·B[N,K]ᵀ (+ bias[N]) (+ residual[M,N]); bf16 in, fp32 accumulate.</summary>
public sealed record GemmDescriptor(string M, string N, string K, string A, string B, string C, string? Bias, string? Residual);
