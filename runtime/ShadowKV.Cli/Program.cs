using System.CommandLine;
using ShadowKV.Cli.Commands;

// skv: the ShadowKV.Compiler command line. Each command lives in Commands/.
var root = new RootCommand("ShadowKV.Compiler: long-context inference with compiled models and ShadowKV.")
{
    GenerateCommand.Create(),
    BenchCommand.Create(),
    InfoCommand.Create(),
    KernelsCommand.Create(),
};
return root.Parse(args).Invoke();
