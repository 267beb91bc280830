using ShadowKV.Compiler.Plans;

namespace ShadowKV.Runtime.Engine.Execution;

/// <summary>
/// The NVRTC name expressions of a phase: each launched template instantiated with the model's constants
/// (<c>llama_decode_attention&lt;128,4&gt;</c>); a kernel without template parameters is its bare name.
/// </summary>
public static class KernelInstantiations
{
    public static string NameExpression(KernelLaunch launch, PlanSymbols symbols) =>
        launch.TemplateArguments.Count == 0
            ? launch.Kernel
            : $"{launch.Kernel}<{string.Join(",", launch.TemplateArguments.Select(a => symbols.Evaluate(a).ToString(System.Globalization.CultureInfo.InvariantCulture)))}>";

    /// <summary>Every distinct name expression the phase launches, in launch order.</summary>
    public static IReadOnlyList<string> For(PhasePlan phase, PlanSymbols symbols) =>
        phase.Steps.Where(s => s.Launch is not null).Select(s => NameExpression(s.Launch!, symbols)).Distinct().ToArray();
}
