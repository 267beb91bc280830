using ShadowKV.Compiler.Plans;
using ShadowKV.Runtime.Cpu;
using ShadowKV.Runtime.Engine.Checkpoints;
using ShadowKV.Runtime.Engine.Execution;
using ShadowKV.Runtime.Engine.Tokenization;

namespace ShadowKV.Runtime.Engine;

/// <summary>
/// A model ready to generate: config, compiled plan, weights on a backend and a tokenizer. Load a Hugging Face model
/// directory with <see cref="Load"/>, or build the seeded random tiny model with <see cref="CreateRandom"/>.
/// </summary>
public sealed partial class InferenceEngine : IDisposable
{
    /// <summary>The label of the built-in model, shown wherever its output is.</summary>
    public const string RandomModelLabel = "random weights (no download)";

    private readonly ModelDirectory? _directory;

    private InferenceEngine(string name, ModelConfig config, CompiledModel model, ITextTokenizer tokenizer, IModelBackend backend,
        EngineOptions options, long weightBytes, ModelDirectory? directory)
    {
        Name = name;
        Config = config;
        Model = model;
        Tokenizer = tokenizer;
        Backend = backend;
        Options = options;
        WeightBytes = weightBytes;
        _directory = directory;
    }

    /// <summary>The model directory's name, or the preset and <see cref="RandomModelLabel"/> for the built-in model.</summary>
    public string Name { get; }

    public ModelConfig Config { get; }

    public CompiledModel Model { get; }

    public ITextTokenizer Tokenizer { get; }

    public IModelBackend Backend { get; }

    public EngineOptions Options { get; }

    /// <summary>Bytes of the weights as bf16.</summary>
    public long WeightBytes { get; }

    /// <summary>Adjustments made to the options to fit the model (e.g. ShadowKV rank clamped); show them to the user.</summary>
    public IReadOnlyList<string> Notes => Backend.Symbols.Notes;

    /// <summary>
    /// Opens the model directory at <paramref name="path"/>, picks the compiled model whose architectures contain the
    /// config's first architecture, binds its weights and builds the backend for <see cref="EngineOptions.Device"/>.
    /// Bad paths, configs, checkpoints and tokenizers throw <see cref="CheckpointException"/>,
    /// <see cref="ModelConfigException"/> or <see cref="TokenizerException"/> naming the file.
    /// </summary>
    public static InferenceEngine Load(string path, EngineOptions options, IReadOnlyList<CompiledModel> models)
    {
        ModelDirectory directory = ModelDirectory.Open(path, models.SelectMany(m => m.Architectures).Distinct().ToArray());
        try
        {
            ModelConfig config = directory.Config;
            CompiledModel model = Pick(models, config);
            BoundWeights bound = new CheckpointBinder(model.Weights, config).Bind(directory.Checkpoint);
            ITextTokenizer tokenizer = TokenizerLoader.Load(directory.Path, config.EosTokenIds);
            IModelBackend backend = BackendFactory.Create(options.Device, new BackendInputs(model, config, options, bound));
            long bytes = bound.All.Sum(w => w.Tensor.ElementCount * 2);
            return new InferenceEngine(Path.GetFileName(directory.Path), config, model, tokenizer, backend, options, bytes, directory);
        }
        catch
        {
            directory.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The built-in model: preset <paramref name="preset"/>'s shape with deterministic random weights from
    /// <paramref name="seed"/> (<see cref="RandomCheckpoint"/>) and a byte tokenizer, on any device. Its output is
    /// noise; it exists so the engine runs anywhere, and so benchmarks run real shapes with no download.
    /// </summary>
    public static InferenceEngine CreateRandom(EngineOptions options, IReadOnlyList<CompiledModel> models, string preset = "tiny-llama3", ulong seed = 0) =>
        CreateRandom(options, models, ModelConfig.Preset(preset), preset, seed);

    /// <summary>As the preset overload, for any Llama-family <paramref name="config"/> (tests shrink the preset).</summary>
    public static InferenceEngine CreateRandom(EngineOptions options, IReadOnlyList<CompiledModel> models, ModelConfig config, string preset, ulong seed)
    {
        CompiledModel model = Pick(models, config);
        // The backend converts (CPU) or uploads (GPU) the weights while it is built; the host copy goes right after.
        using SafetensorsCheckpoint checkpoint = RandomCheckpoint.Create(config, seed);
        BoundWeights bound = new CheckpointBinder(model.Weights, config).Bind(checkpoint);
        IModelBackend backend = BackendFactory.Create(options.Device, new BackendInputs(model, config, options, bound));
        long bytes = bound.All.Sum(w => w.Tensor.ElementCount * 2);
        return new InferenceEngine($"{preset}, {RandomModelLabel}", config, model, new ByteTokenizer((int)config.VocabSize), backend, options, bytes, null);
    }

    /// <summary>The compiled model whose architectures contain the config's first architecture.</summary>
    public static CompiledModel Pick(IReadOnlyList<CompiledModel> models, ModelConfig config)
    {
        string architecture = config.Architectures.FirstOrDefault() ?? "(none)";
        return models.FirstOrDefault(m => m.Architectures.Contains(architecture, StringComparer.Ordinal))
            ?? throw new ModelConfigException("config.json", "architectures",
                $"{architecture} has no compiled model; compiled: {string.Join(", ", models.SelectMany(m => m.Architectures).Order(StringComparer.Ordinal))}.");
    }

    /// <summary>Prompt ids for <paramref name="text"/>: BOS + text, or the model family's chat format around it.</summary>
    public IReadOnlyList<int> Encode(string text, bool chat = false) =>
        chat
            ? ChatTemplate.For(Config.ModelType, Tokenizer).Encode(Tokenizer, [new ChatMessage("user", text)])
            : Tokenizer.Encode(text, addBos: Tokenizer.BosId is not null);

    public void Dispose()
    {
        Backend.Dispose();
        _directory?.Dispose();
    }
}
