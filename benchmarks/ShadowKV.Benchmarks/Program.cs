using BenchmarkDotNet.Running;

// dotnet run -c Release --project benchmarks/ShadowKV.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
