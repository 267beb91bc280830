using System.CommandLine;
using System.Globalization;
using ShadowKV.Compiler.Plans;
using ShadowKV.Models;
using ShadowKV.Runtime.Engine;
using ShadowKV.Runtime.Engine.Execution;
using ShadowKV.Runtime.Engine.Sampling;

namespace ShadowKV.Cli.Commands;

/// <summary><c>skv generate</c>: streams a continuation of a prompt to stdout and a one-line summary to stderr.</summary>
public static class GenerateCommand
{
    public static Command Create() => Create(Console.Out, Console.Error);

    /// <summary>The command writing to <paramref name="output"/> and <paramref name="error"/> (tests run it in-process).</summary>
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new Option<string?>("--model") { Description = "Hugging Face model directory; omitted: the built-in tiny model with random weights" };
        var prompt = new Option<string>("--prompt") { Description = "Prompt text", DefaultValueFactory = _ => "Once upon a time" };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Tokens to generate at most", DefaultValueFactory = _ => 64 };
        var kv = new Option<string>("--kv") { Description = "Attention: full or shadowkv", DefaultValueFactory = _ => "full" };
        kv.AcceptOnlyFromAmong("full", "shadowkv");
        var budget = new Option<int?>("--budget") { Description = "ShadowKV sparse budget in tokens (default: the model's)" };
        var device = new Option<string>("--device") { Description = "cpu, gpu or auto", DefaultValueFactory = _ => "auto" };
        device.AcceptOnlyFromAmong("cpu", "gpu", "auto");
        var temperature = new Option<float>("--temperature") { Description = "Sampling temperature; 0 = greedy", DefaultValueFactory = _ => 0f };
        var topK = new Option<int>("--top-k") { Description = "Keep the k most likely tokens; 0 = all" };
        var topP = new Option<float>("--top-p") { Description = "Nucleus mass in (0, 1]", DefaultValueFactory = _ => 1f };
        var seed = new Option<ulong>("--seed") { Description = "Sampling seed" };
        var chat = new Option<bool>("--chat") { Description = "Wrap the prompt in the model family's chat template" };
        var command = new Command("generate", "Generate text from a prompt");
        foreach (Option option in new Option[] { model, prompt, maxTokens, kv, budget, device, temperature, topK, topP, seed, chat })
        {
            command.Options.Add(option);
        }

        command.SetAction(parse => CliErrors.Run(error, () =>
        {
            int newTokens = parse.GetValue(maxTokens);
            var sampling = new SamplingOptions
            {
                Temperature = parse.GetValue(temperature),
                TopK = parse.GetValue(topK),
                TopP = parse.GetValue(topP),
                Seed = parse.GetValue(seed),
            };
            var options = new EngineOptions
            {
                Variant = parse.GetValue(kv) == "shadowkv" ? AttentionVariant.ShadowKV : AttentionVariant.Full,
                Device = Enum.Parse<DeviceKind>(parse.GetValue(device)!, ignoreCase: true),
                MaxNewTokens = Math.Max(newTokens, 1),
                BudgetTokens = parse.GetValue(budget),
            };
            string? directory = parse.GetValue(model);
            using InferenceEngine engine = directory is null
                ? InferenceEngine.CreateRandom(options with { MaxPromptTokens = 2048 }, CompiledModels.All)
                : InferenceEngine.Load(directory, options with { MaxPromptTokens = PromptLimit(directory, newTokens) }, CompiledModels.All);
            if (directory is null)
            {
                error.WriteLine($"model: {engine.Name} (pass --model DIR for a real checkpoint)");
            }

            foreach (string note in engine.Notes)
            {
                error.WriteLine($"note: {note}");
            }

            IReadOnlyList<int> ids = engine.Encode(parse.GetValue(prompt) ?? "", parse.GetValue(chat));
            var request = new GenerationRequest(ids) { MaxNewTokens = newTokens, Sampling = sampling };
            GenerationBatchResult result = engine.Generate([request], e => output.Write(e.Text));
            output.WriteLine();
            output.Flush();
            error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{result.GeneratedTokens} tokens, prefill {result.PrefillTime.TotalMilliseconds:F1} ms ({ids.Count} prompt tokens), decode {result.DecodeTokensPerSecond:F1} tok/s, device {result.Device}, kv {result.Variant.ToString().ToLowerInvariant()}"));
            return 0;
        }));
        return command;
    }

    // The prompt may use whatever context the generated tokens leave (read from config.json before loading weights).
    private static int PromptLimit(string directory, int newTokens)
    {
        if (!Directory.Exists(directory))
        {
            return 2048; // InferenceEngine.Load reports the bad path
        }

        long context = Runtime.Engine.Checkpoints.ModelConfig.Load(Path.GetFullPath(directory)).MaxPositionEmbeddings;
        return (int)Math.Clamp(context - newTokens, 1, 32768);
    }
}
