using System.CommandLine;
using ShadowKV.Cli.Commands;
using ShadowKV.Compiler.Plans;
using ShadowKV.Runtime.Engine.Benchmarking;

namespace ShadowKV.Runtime.Tests.Benchmarking;

// skv bench in-process: its list arguments and one small CPU run end to end.
public sealed class BenchCommandTests(ITestOutputHelper output)
{
    private static (int Exit, string Out, string Error) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exit = new RootCommand { BenchCommand.Create(stdout, stderr) }.Parse(args).Invoke();
        return (exit, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void CountListsTakeCommasSpacesAndTheKSuffix()
    {
        Assert.Equal([4096, 61440, 1024], BenchCommand.ParseCounts("4096, 60K,1k", "--context"));
        Assert.Equal([1, 4], BenchCommand.ParseCounts("1,4,1", "--batch"));
        Assert.Equal([AttentionVariant.Full, AttentionVariant.ShadowKV], BenchCommand.ParseVariants("full, ShadowKV"));
    }

    [Theory]
    [InlineData("12x")]
    [InlineData("0")]
    [InlineData("-4")]
    [InlineData("4096,,8192")]
    [InlineData("3000000K")]
    public void ABadCountNamesTheOptionAndTheEntry(string text)
    {
        var error = Assert.Throws<ArgumentException>(() => BenchCommand.ParseCounts(text, "--context"));
        Assert.StartsWith("--context: '", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ABadArgumentIsAClearErrorWithExitCode1()
    {
        var (exit, text, error) = Run("bench", "--device", "cpu", "--context", "4096,lots");
        Assert.Equal(1, exit);
        Assert.Empty(text);
        Assert.Contains("--context: 'lots'", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);

        var (kvExit, _, kvError) = Run("bench", "--device", "cpu", "--kv", "full,sparse");
        Assert.Equal(1, kvExit);
        Assert.Contains("--kv: 'sparse'", kvError, StringComparison.Ordinal);
    }

    [Fact]
    public void ASmallCpuRunPrintsTheTableAndWritesJsonAndMarkdown()
    {
        string folder = Directory.CreateTempSubdirectory("skv-bench-").FullName;
        try
        {
            string json = Path.Combine(folder, "bench.json"), markdown = Path.Combine(folder, "bench.md");
            var (exit, text, error) = Run("bench", "--device", "cpu", "--preset", "tiny-llama3", "--context", "64,40K", "--batch", "1",
                "--steps", "2", "--warmup", "1", "--budget", "32", "--json", json, "--markdown", markdown);
            output.WriteLine(text + error);

            Assert.Equal(0, exit);
            Assert.Contains("model: tiny-llama3", text, StringComparison.Ordinal);
            Assert.Contains("decode tok/s", text, StringComparison.Ordinal);
            Assert.Contains("shadowkv 40960×1: does not fit: context 40960", text, StringComparison.Ordinal); // tiny-llama3 has 32768 positions
            BenchmarkReport report = BenchmarkReportJson.Read(File.ReadAllText(json));
            Assert.Equal(4, report.Cells.Count);
            Assert.Equal(2, report.Cells.Count(c => c.Status == CellStatus.Measured));
            Assert.Contains("| shadowkv | 64 | 1 |", File.ReadAllText(markdown), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
