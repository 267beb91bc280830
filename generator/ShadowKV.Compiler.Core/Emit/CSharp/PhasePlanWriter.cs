using System.Linq;
using System.Text;
using ShadowKV.Compiler.Plans;
using static ShadowKV.Compiler.Emit.CSharp.CSharpLiterals;

namespace ShadowKV.Compiler.Emit.CSharp;

/// <summary>One <see cref="PhasePlan"/> as a C# constructor call: buffers, then steps one a line.</summary>
internal static class PhasePlanWriter
{
    private const string P = "global::ShadowKV.Compiler.Plans.";

    public static void Write(StringBuilder text, PhasePlan phase)
    {
        text.Append("            new(").Append(String(phase.Name)).Append($", {P}PhaseKind.{phase.Kind}, {P}AttentionVariant.{phase.Variant}, ")
            .Append(String(phase.CudaSource)).Append(",\n");
        text.Append("                new ").Append(P).Append("BufferSpec[]\n                {\n");
        foreach (BufferSpec buffer in phase.Buffers)
        {
            text.Append($"                    new({String(buffer.Name)}, {Strings(buffer.Shape)}, {P}DataType.{buffer.Type}, {P}BufferLifetime.{buffer.Lifetime}, {String(buffer.Offset)}),\n");
        }

        text.Append("                },\n                new ").Append(P).Append("PlanStep[]\n                {\n");
        foreach (PlanStep step in phase.Steps)
        {
            text.Append("                    new(").Append(String(step.Node)).Append(", ").Append(String(step.Op))
                .Append($", {P}StepScope.{step.Scope}, {P}StepKind.{step.Kind}, ")
                .Append(Strings(step.Inputs)).Append(", ").Append(Strings(step.Outputs)).Append(", ")
                .Append(Dictionary(step.Attributes)).Append(", ").Append(String(step.Stream)).Append(", ")
                .Append(Strings(step.WaitEvents)).Append(", ").Append(String(step.RecordEvent)).Append(", ")
                .Append(Launch(step.Launch)).Append(", ").Append(Gemm(step.Gemm)).Append(", ")
                .Append(String(step.Origin)).Append("),\n");
        }

        text.Append("                },\n                ").Append(Strings(phase.Streams)).Append(",\n");
        text.Append("                ").Append(String(phase.ArenaBytes)).Append(",\n");
        text.Append("                ").Append(String(phase.CacheBytesPerLayer)).Append(",\n");
        text.Append("                ").Append(String(phase.HostCacheBytesPerLayer)).Append("),\n");
    }

    private static string Launch(KernelLaunch? launch) => launch is null
        ? "null"
        : $"new {P}KernelLaunch({String(launch.Kernel)}, {Strings(launch.TemplateArguments)}, {Strings(launch.Arguments)}, {Strings(launch.Grid)}, {Ints(launch.Block)}, {String(launch.SharedBytes)})";

    private static string Gemm(GemmDescriptor? gemm) => gemm is null
        ? "null"
        : $"new {P}GemmDescriptor({String(gemm.M)}, {String(gemm.N)}, {String(gemm.K)}, {String(gemm.A)}, {String(gemm.B)}, {String(gemm.C)}, {String(gemm.Bias)}, {String(gemm.Residual)})";
}
