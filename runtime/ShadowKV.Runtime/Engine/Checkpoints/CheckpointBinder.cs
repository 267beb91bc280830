using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using ShadowKV.Compiler.Plans;

namespace ShadowKV.Runtime.Engine.Checkpoints;

/// <summary>One graph weight resolved to a checkpoint tensor; <see cref="Layer"/> is null for model-wide weights.</summary>
public sealed record BoundWeight(WeightBinding Binding, int? Layer, CheckpointTensor Tensor, IReadOnlyList<long> Shape);

/// <summary>
/// Resolves a compiled model's <see cref="WeightBinding"/>s against a checkpoint: expands <c>{layer}</c>, evaluates the
/// symbolic shapes over <see cref="ModelConfig.Symbols"/>, and reports every missing, mis-shaped or unused tensor at once.
/// </summary>
public sealed partial class CheckpointBinder
{
    private const string LayerPlaceholder = "{layer}";

    private readonly IReadOnlyList<WeightBinding> _weights;
    private readonly ModelConfig _config;

    /// <summary>Creates a binder for <paramref name="weights"/> (the generated plan's list) and the model's config.</summary>
    public CheckpointBinder(IReadOnlyList<WeightBinding> weights, ModelConfig config)
    {
        _weights = weights;
        _config = config;
    }

    /// <summary>
    /// Output head → input embedding: when the checkpoint has no head and <c>tie_word_embeddings</c> is set, the head
    /// binds to the embedding tensor (and when tied, a stored head is ignored, as transformers does).
    /// </summary>
    public IDictionary<string, string> TiedWeights { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["lm_head.weight"] = "model.embed_tokens.weight",
    };

    /// <summary>Binds every weight for every layer; throws one <see cref="CheckpointException"/> listing all problems.</summary>
    public BoundWeights Bind(SafetensorsCheckpoint checkpoint)
    {
        var problems = new List<string>();
        var missing = new List<string>();
        var bound = new List<BoundWeight>();
        var used = new HashSet<string>(StringComparer.Ordinal);
        IReadOnlyDictionary<string, long> symbols = _config.Symbols;
        foreach (WeightBinding weight in _weights)
        {
            IReadOnlyList<long> expected = EvaluateShape(weight, symbols, checkpoint.Source);
            int layers = weight.PerLayer ? checked((int)_config.NumHiddenLayers) : 1;
            for (int layer = 0; layer < layers; layer++)
            {
                string name = weight.PerLayer
                    ? weight.Checkpoint.Replace(LayerPlaceholder, layer.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
                    : weight.Checkpoint;
                CheckpointTensor? tensor = Resolve(name, checkpoint, used);
                if (tensor is null)
                {
                    missing.Add(name);
                    continue;
                }

                if (!tensor.Shape.SequenceEqual(expected))
                {
                    problems.Add($"'{tensor.Name}' (weight {weight.Name}) has shape [{string.Join(", ", tensor.Shape)}], expected " +
                        $"[{string.Join(", ", weight.Shape.Select((s, i) => $"{s}={expected[i]}"))}].");
                    continue;
                }

                if (!SafetensorsDTypes.IsFloatingWeight(tensor.DType))
                {
                    problems.Add($"'{tensor.Name}' (weight {weight.Name}) is {tensor.DType}; weights must be F32, F16 or BF16.");
                    continue;
                }

                bound.Add(new BoundWeight(weight, weight.PerLayer ? layer : null, tensor, expected));
            }
        }

        if (missing.Count > 0)
        {
            problems.Insert(0, $"{missing.Count} tensor(s) missing: {string.Join(", ", missing)}.");
        }

        List<string> unused = checkpoint.Tensors.Keys.Where(n => !used.Contains(n) && !IsBenignExtra(n)).Order(StringComparer.Ordinal).ToList();
        if (unused.Count > 0)
        {
            problems.Add($"{unused.Count} tensor(s) unused by the model (wrong architecture or an unsupported variant?): {string.Join(", ", unused)}.");
        }

        if (problems.Count > 0)
        {
            throw new CheckpointException(checkpoint.Source, null,
                $"does not match the model ({_config.ModelType}, {string.Join("/", _config.Architectures)}):\n  " + string.Join("\n  ", problems));
        }

        return new BoundWeights(bound);
    }

    private CheckpointTensor? Resolve(string name, SafetensorsCheckpoint checkpoint, HashSet<string> used)
    {
        bool tiedHead = _config.TieWordEmbeddings && TiedWeights.ContainsKey(name);
        if (!tiedHead && checkpoint.Tensors.TryGetValue(name, out CheckpointTensor? tensor))
        {
            used.Add(name);
            return tensor;
        }

        if (TiedWeights.TryGetValue(name, out string? source) && _config.TieWordEmbeddings
            && checkpoint.Tensors.TryGetValue(source, out CheckpointTensor? embedding))
        {
            used.Add(source);
            return embedding;
        }

        return null;
    }

    private bool IsBenignExtra(string name) =>
        RotaryInverseFrequency().IsMatch(name) || (_config.TieWordEmbeddings && TiedWeights.ContainsKey(name));

    private static IReadOnlyList<long> EvaluateShape(WeightBinding weight, IReadOnlyDictionary<string, long> symbols, string source)
    {
        try
        {
            return weight.Shape.Select(s => SymbolicExpression.Evaluate(s, symbols)).ToArray();
        }
        catch (FormatException e)
        {
            throw new CheckpointException(source, weight.Checkpoint, $"weight {weight.Name}'s shape cannot be evaluated: {e.Message}", e);
        }
    }

    // Older Llama checkpoints store RoPE's inverse frequencies per layer; the engine recomputes them from config.json.
    [GeneratedRegex(@"(^|\.)rotary_emb\.inv_freq$")]
    private static partial Regex RotaryInverseFrequency();
}

/// <summary>The result of <see cref="CheckpointBinder.Bind"/>: every weight instance, looked up by graph name and layer.</summary>
public sealed class BoundWeights
{
    private readonly Dictionary<(string Name, int Layer), BoundWeight> _byKey = new();

    internal BoundWeights(IReadOnlyList<BoundWeight> all)
    {
        All = all;
        foreach (BoundWeight weight in all)
        {
            _byKey[(weight.Binding.Name, weight.Layer ?? -1)] = weight;
        }
    }

    /// <summary>In binding order, layers ascending within a per-layer weight.</summary>
    public IReadOnlyList<BoundWeight> All { get; }

    /// <summary>The tensor for graph weight <paramref name="name"/> (at <paramref name="layer"/> when per-layer).</summary>
    public CheckpointTensor Get(string name, int? layer = null) =>
        _byKey.TryGetValue((name, layer ?? -1), out BoundWeight? weight)
            ? weight.Tensor
            : throw new KeyNotFoundException($"No bound weight '{name}'{(layer is null ? "" : $" at layer {layer}")}.");
}
