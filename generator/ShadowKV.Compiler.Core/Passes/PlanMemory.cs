using System.Collections.Generic;
using System.Linq;
using ShadowKV.Compiler.Ir;
using ShadowKV.Compiler.Plans;

namespace ShadowKV.Compiler.Passes;

/// <summary>One persistent per-layer cache buffer of a variant: its name, type and whether it lives in pinned host memory.</summary>
public sealed record CacheEntry(string Name, TensorType Type, bool Host);

/// <summary>Where every value of a phase lives: value name → buffer, and the buffers with their offsets.</summary>
public sealed record MemoryPlan(
    IReadOnlyDictionary<string, string> BufferOf,
    IReadOnlyList<BufferSpec> Buffers,
    string ArenaBytes,
    string CacheBytesPerLayer,
    string HostCacheBytesPerLayer);

/// <summary>
/// Memory planning (an analysis: it reads the final graph and changes nothing). In-place outputs share their input's
/// buffer; the layer output is written over the layer input (the residual stream). Metadata and prologue/epilogue
/// values get their own arena buffers (Pass). Layer-local values get arena slots that are reused once their last
/// reader has run (greedy interval colouring; a slot's size is the max of its occupants). Cache values that the
/// variant's other phase also uses live in the per-layer cache block; pinned host values in the host block.
/// </summary>
public static class PlanMemory
{
    public const int Alignment = 256;

    /// <param name="graph">The phase's final graph.</param>
    /// <param name="cacheLayout">The variant's persistent caches in block order: every phase of the variant places
    /// them at the same offsets (decode reads what prefill wrote); other cache values are scratch.</param>
    public static MemoryPlan Run(Graph graph, IReadOnlyList<CacheEntry> cacheLayout)
    {
        var persistentCaches = new HashSet<string>(cacheLayout.Select(c => c.Name));
        var bufferOf = new Dictionary<string, string>();
        var specs = new Dictionary<string, (TensorType Type, BufferLifetime Lifetime)>();
        var order = new List<string>();
        var hostValues = new HashSet<string>(graph.Nodes.Where(n => n.Attribute("memory") == "host").Select(n => n.Result));

        void Own(Value value, BufferLifetime lifetime)
        {
            bufferOf[value.Name] = value.Name;
            specs[value.Name] = (value.Type!, lifetime);
            order.Add(value.Name);
        }

        foreach (Node node in graph.Nodes.Where(n => n.Op != IrOps.Weight))
        {
            for (int i = 0; i < node.Results.Count; i++)
            {
                Value value = node.Results[i];
                int inPlace = CacheRoles.InPlaceInput(node, i);
                if (inPlace >= 0 && bufferOf.TryGetValue(node.Inputs[inPlace], out string? shared))
                {
                    bufferOf[value.Name] = shared;
                }
                else if (value.Name == graph.LayerOutput && bufferOf.TryGetValue(graph.LayerInput, out string? carry))
                {
                    bufferOf[value.Name] = carry; // the block's result overwrites its input: no copy between layers
                }
                else if (node.Op == CacheRoles.CacheOp || CacheRoles.IsCacheOutput(node.Op, i))
                {
                    bool persistent = persistentCaches.Contains(value.Name);
                    bool onHost = hostValues.Contains(value.Name) || CacheRoles.IsHostOutput(node.Op, i);
                    Own(value, !persistent ? BufferLifetime.Transient : onHost ? BufferLifetime.HostCache : BufferLifetime.Cache);
                }
                else
                {
                    Own(value, node.Scope == NodeScope.Layer && value.Name != graph.LayerInput ? BufferLifetime.Transient : BufferLifetime.Pass);
                }
            }
        }

        var offsets = new Dictionary<string, string>();
        string arenaPass = Layout(order.Where(b => specs[b].Lifetime == BufferLifetime.Pass), b => specs[b].Type, "0", offsets);
        string arena = LayoutTransients(graph, order.Where(b => specs[b].Lifetime == BufferLifetime.Transient).ToList(), bufferOf, b => specs[b].Type, arenaPass, offsets);
        var layoutTypes = cacheLayout.ToDictionary(c => c.Name, c => c.Type);
        string cache = Layout(cacheLayout.Where(c => !c.Host).Select(c => c.Name), b => layoutTypes[b], "0", offsets);
        string host = Layout(cacheLayout.Where(c => c.Host).Select(c => c.Name), b => layoutTypes[b], "0", offsets);

        var buffers = order.Select(b => new BufferSpec(b, specs[b].Type.Shape.ToArray(), specs[b].Type.Type, specs[b].Lifetime, offsets[b])).ToArray();
        return new MemoryPlan(bufferOf, buffers, arena, cache, host);
    }

    /// <summary>Size of a tensor in bytes as an expression.</summary>
    public static string Bytes(TensorType type) =>
        string.Join("*", type.Shape.Select(d => d.IndexOfAny(new[] { '+', '-', '/' }) >= 0 ? "(" + d + ")" : d)) + "*" + (type.Type == DataType.BF16 ? 2 : 4);

    private static string Layout(IEnumerable<string> buffers, System.Func<string, TensorType> type, string start, Dictionary<string, string> offsets)
    {
        string next = start;
        foreach (string buffer in buffers)
        {
            offsets[buffer] = next;
            next = Advance(next, Bytes(type(buffer)));
        }

        return next;
    }

    // Slots are reused once the last reader of their occupant has run; the order of the layer's nodes is the schedule.
    private static string LayoutTransients(Graph graph, List<string> transients, IReadOnlyDictionary<string, string> bufferOf,
        System.Func<string, TensorType> type, string start, Dictionary<string, string> offsets)
    {
        var nodes = graph.Nodes.ToList();
        bool Touches(string value, string buffer) => bufferOf.TryGetValue(value, out string? b) && b == buffer;
        int FirstDef(string buffer) => nodes.FindIndex(n => n.Results.Any(r => Touches(r.Name, buffer)));
        int LastUse(string buffer) => Enumerable.Range(0, nodes.Count)
            .Where(i => nodes[i].Inputs.Any(input => Touches(input, buffer)) || nodes[i].Results.Any(r => Touches(r.Name, buffer)))
            .DefaultIfEmpty(FirstDef(buffer)).Max();

        var slots = new List<(List<string> Occupants, int FreeAfter)>();
        var slotOf = new Dictionary<string, int>();
        foreach (string buffer in transients.OrderBy(FirstDef))
        {
            int def = FirstDef(buffer);
            int slot = slots.FindIndex(s => s.FreeAfter < def);
            if (slot < 0)
            {
                slots.Add((new List<string>(), -1));
                slot = slots.Count - 1;
            }

            slots[slot].Occupants.Add(buffer);
            slots[slot] = (slots[slot].Occupants, LastUse(buffer));
            slotOf[buffer] = slot;
        }

        string next = start;
        var slotOffsets = new List<string>();
        foreach (var (occupants, _) in slots)
        {
            slotOffsets.Add(next);
            string size = occupants.Select(b => Bytes(type(b))).Distinct().Aggregate((a, b) => $"max({a}, {b})");
            next = Advance(next, size);
        }

        foreach (string buffer in transients)
        {
            offsets[buffer] = slotOffsets[slotOf[buffer]];
        }

        return next;
    }

    private static string Advance(string offset, string size) =>
        offset == "0" ? $"alignup({size}, {Alignment})" : $"{offset} + alignup({size}, {Alignment})";
}
