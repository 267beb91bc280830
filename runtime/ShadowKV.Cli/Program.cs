using System.CommandLine;
using ShadowKV.Cli.Commands;

// skv: generate | info (the lead's kernels command joins here when the two Program.cs files merge).
var root = new RootCommand("ShadowKV.Compiler: compiled long-context LLM inference");
root.Subcommands.Add(GenerateCommand.Create());
root.Subcommands.Add(InfoCommand.Create());
return root.Parse(args).Invoke();
