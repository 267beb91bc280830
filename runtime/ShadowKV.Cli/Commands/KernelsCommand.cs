using System.CommandLine;
using ShadowKV.Compiler.Plans;
using Spectre.Console;

namespace ShadowKV.Cli.Commands;

/// <summary>
/// <c>skv kernels --model llama --out DIR</c>: writes every generated <c>.cu</c> file and the IR after every pass,
/// then prints a table of phases, kernels and GEMMs.
/// </summary>
internal static class KernelsCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model family: " + string.Join(", ", Families()), DefaultValueFactory = _ => "llama" };
        var output = new Option<DirectoryInfo>("--out") { Description = "Folder to write the .cu files and IR dumps into", DefaultValueFactory = _ => new DirectoryInfo("kernels-out") };
        var command = new Command("kernels", "Write the generated CUDA sources and IR dumps of a model") { model, output };
        command.SetAction(parse => Run(parse.GetValue(model)!, parse.GetValue(output)!));
        return command;
    }

    private static int Run(string family, DirectoryInfo output)
    {
        CompiledModel? compiled = ShadowKV.Models.CompiledModels.All.FirstOrDefault(m => string.Equals(m.Name, family, StringComparison.OrdinalIgnoreCase));
        if (compiled is null)
        {
            Console.Error.WriteLine($"skv kernels: unknown model '{family}'; known: {string.Join(", ", Families())}.");
            return 1;
        }

        string folder = Path.Combine(output.FullName, compiled.Name.ToLowerInvariant());
        Directory.CreateDirectory(Path.Combine(folder, "ir"));
        foreach (CudaSource source in compiled.Sources)
        {
            File.WriteAllText(Path.Combine(folder, $"{compiled.Name.ToLowerInvariant()}.{source.Name}.cu"), source.Text);
        }

        foreach (GraphDump dump in compiled.Graphs)
        {
            int index = compiled.Graphs.Where(g => g.Phase == dump.Phase).ToList().IndexOf(dump);
            File.WriteAllText(Path.Combine(folder, "ir", $"{dump.Phase}.{index:00}.{dump.Pass}.ir"), dump.Text);
        }

        var table = new Table().AddColumns("phase", "kernels", "GEMMs", "solver calls", "streams", ".cu lines");
        foreach (PhasePlan phase in compiled.Phases)
        {
            string text = compiled.Sources.Single(s => s.Name == phase.CudaSource).Text;
            table.AddRow(
                phase.Name,
                phase.Steps.Where(s => s.Launch is not null).Select(s => s.Launch!.Kernel).Distinct().Count().ToString(),
                phase.Steps.Count(s => s.Kind == StepKind.Gemm).ToString(),
                phase.Steps.Count(s => s.Kind == StepKind.Solver).ToString(),
                string.Join("+", phase.Streams),
                text.Split('\n').Length.ToString());
        }

        AnsiConsole.Write(table);
        Console.WriteLine($"Wrote {compiled.Sources.Count} .cu files and {compiled.Graphs.Count} IR dumps to {folder}");
        return 0;
    }

    private static IEnumerable<string> Families() => ShadowKV.Models.CompiledModels.All.Select(m => m.Name.ToLowerInvariant());
}
