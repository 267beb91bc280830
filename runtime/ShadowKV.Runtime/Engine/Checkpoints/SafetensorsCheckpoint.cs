using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;

namespace ShadowKV.Runtime.Engine.Checkpoints;

/// <summary>
/// All tensors of a checkpoint: one <c>model.safetensors</c>, or the shards listed by
/// <c>model.safetensors.index.json</c>. Dispose to unmap every file.
/// </summary>
public sealed class SafetensorsCheckpoint : IDisposable
{
    public const string SingleFileName = "model.safetensors";
    public const string IndexFileName = "model.safetensors.index.json";

    private readonly List<SafetensorsFile> _files;
    private readonly Dictionary<string, CheckpointTensor> _tensors;

    private SafetensorsCheckpoint(string source, List<SafetensorsFile> files, Dictionary<string, CheckpointTensor> tensors)
    {
        Source = source;
        _files = files;
        _tensors = tensors;
    }

    /// <summary>The file or index the checkpoint was opened from.</summary>
    public string Source { get; }

    /// <summary>Every tensor by name, across shards.</summary>
    public IReadOnlyDictionary<string, CheckpointTensor> Tensors => _tensors;

    /// <summary>The mapped files (one, or one per shard).</summary>
    public IReadOnlyList<SafetensorsFile> Files => _files;

    /// <summary>
    /// Opens a model directory (index first, then model.safetensors), an index file, or a single .safetensors file.
    /// </summary>
    public static SafetensorsCheckpoint Open(string path)
    {
        path = Path.GetFullPath(path);
        if (Directory.Exists(path))
        {
            string index = Path.Combine(path, IndexFileName);
            string single = Path.Combine(path, SingleFileName);
            if (File.Exists(index))
            {
                return OpenIndex(index);
            }

            if (File.Exists(single))
            {
                return OpenSingle(single);
            }

            throw new CheckpointException(path, null, $"holds neither {IndexFileName} nor {SingleFileName}; only safetensors checkpoints are supported (convert .bin/.pth first).");
        }

        return path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? OpenIndex(path) : OpenSingle(path);
    }

    /// <summary>Opens one safetensors file.</summary>
    public static SafetensorsCheckpoint OpenSingle(string file) => FromFile(SafetensorsFile.Open(file));

    /// <summary>A checkpoint of one file (mapped or in memory), which it owns from now on.</summary>
    internal static SafetensorsCheckpoint FromFile(SafetensorsFile file) =>
        new(file.Path, [file], new Dictionary<string, CheckpointTensor>(file.Tensors, StringComparer.Ordinal));

    /// <summary>Opens a sharded checkpoint through its index's <c>weight_map</c>, checking it agrees with the shards.</summary>
    public static SafetensorsCheckpoint OpenIndex(string indexFile)
    {
        indexFile = Path.GetFullPath(indexFile);
        Dictionary<string, string> weightMap = ReadWeightMap(indexFile);
        string directory = Path.GetDirectoryName(indexFile)!;
        var files = new List<SafetensorsFile>();
        try
        {
            var byShard = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
            foreach (string shard in weightMap.Values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
            {
                string shardPath = Path.GetFullPath(Path.Combine(directory, shard));
                if (!File.Exists(shardPath))
                {
                    string first = weightMap.First(pair => pair.Value == shard).Key;
                    throw new CheckpointException(indexFile, first, $"its shard '{shard}' is missing ({shardPath}); the download is incomplete.");
                }

                SafetensorsFile opened = SafetensorsFile.Open(shardPath);
                files.Add(opened);
                byShard[shard] = opened;
            }

            var tensors = new Dictionary<string, CheckpointTensor>(StringComparer.Ordinal);
            foreach (var (name, shard) in weightMap)
            {
                if (!byShard[shard].Tensors.TryGetValue(name, out CheckpointTensor? tensor))
                {
                    throw new CheckpointException(indexFile, name, $"is listed in the weight_map under '{shard}' but that shard does not contain it.");
                }

                tensors[name] = tensor;
            }

            // A tensor the index does not place in this shard means the index and shards come from different saves.
            foreach (var (shard, file) in byShard)
            {
                foreach (string name in file.Tensors.Keys.Order(StringComparer.Ordinal))
                {
                    if (!weightMap.TryGetValue(name, out string? listed))
                    {
                        throw new CheckpointException(file.Path, name, $"is in the shard but not in {Path.GetFileName(indexFile)}'s weight_map; the index does not match the shards.");
                    }

                    if (listed != shard)
                    {
                        throw new CheckpointException(file.Path, name, $"is also stored in shard '{shard}' while the weight_map places it in '{listed}'; the index does not match the shards.");
                    }
                }
            }

            return new SafetensorsCheckpoint(indexFile, files, tensors);
        }
        catch
        {
            files.ForEach(f => f.Dispose());
            throw;
        }
    }

    public void Dispose() => _files.ForEach(f => f.Dispose());

    private static Dictionary<string, string> ReadWeightMap(string indexFile)
    {
        if (!File.Exists(indexFile))
        {
            throw new CheckpointException(indexFile, null, "index file not found.");
        }

        try
        {
            // ReadAllText drops a UTF-8 BOM, which JsonDocument would refuse.
            using JsonDocument document = JsonDocument.Parse(File.ReadAllText(indexFile));
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("weight_map", out JsonElement map)
                || map.ValueKind != JsonValueKind.Object)
            {
                throw new CheckpointException(indexFile, null, "has no 'weight_map' object.");
            }

            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (JsonProperty entry in map.EnumerateObject())
            {
                if (entry.Value.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(entry.Value.GetString()))
                {
                    throw new CheckpointException(indexFile, entry.Name, "weight_map value is not a shard file name.");
                }

                string shard = entry.Value.GetString()!;
                if (Path.IsPathRooted(shard) || shard.Contains("..", StringComparison.Ordinal))
                {
                    throw new CheckpointException(indexFile, entry.Name, $"shard '{shard}' must be a file name inside the checkpoint directory.");
                }

                result[entry.Name] = shard;
            }

            return result;
        }
        catch (JsonException e)
        {
            throw new CheckpointException(indexFile, null, $"not valid JSON ({e.Message}).", e);
        }
    }
}
