using System.CommandLine;
using ShadowKV.Cli.Commands;

namespace ShadowKV.Runtime.Tests.Engine;

// The skv command handlers run in-process with captured output (no subprocess).
public sealed class CliTests(ITestOutputHelper output)
{
    private static (int Exit, string Out, string Error) Run(Func<TextWriter, TextWriter, Command> create, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var root = new RootCommand { create(stdout, stderr) };
        int exit = root.Parse(args).Invoke();
        return (exit, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void GenerateContinuesAStoryOnStories260K()
    {
        var model = Stories260K.Require();
        var (exit, text, error) = Run(GenerateCommand.Create, "generate", "--model", model.Directory, "--prompt", "Once upon a time", "--max-tokens", "30", "--device", "cpu");
        output.WriteLine(text + error);
        Assert.Equal(0, exit);
        // Greedy from "Once upon a time" follows the reference story (bos_greedy_200 begins with this prompt).
        Assert.StartsWith(", there was a little girl named Lily. She loved to play", text, StringComparison.Ordinal);
        Assert.Contains("30 tokens", error, StringComparison.Ordinal);
        Assert.Contains("kv full", error, StringComparison.Ordinal);
    }

    [Fact]
    public void InfoPrintsTheShapeAndThePlanMemoryTable()
    {
        var model = Stories260K.Require();
        var (exit, text, error) = Run(InfoCommand.Create, "info", "--model", model.Directory, "--context", "256", "--batch", "2");
        output.WriteLine(text + error);
        Assert.Equal(0, exit);
        Assert.Contains("layers 5, heads 8 q / 4 kv (GQA 2), d 8", text, StringComparison.Ordinal);
        Assert.Contains("full attention: KV cache", text, StringComparison.Ordinal);
        Assert.Contains("ShadowKV: values", text, StringComparison.Ordinal);
    }

    [Fact]
    public void ABadModelPathIsAClearErrorWithExitCode1()
    {
        var (exit, text, error) = Run(GenerateCommand.Create, "generate", "--model", "/no/such/model");
        Assert.Equal(1, exit);
        Assert.Empty(text);
        Assert.Contains("model directory not found", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);

        var (infoExit, _, infoError) = Run(InfoCommand.Create, "info", "--model", "/no/such/model");
        Assert.Equal(1, infoExit);
        Assert.Contains("not found", infoError, StringComparison.Ordinal);
    }
}
