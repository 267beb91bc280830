using System.Collections.Generic;
using System.Linq;
using ShadowKV.Compiler.Ir;
using ShadowKV.Compiler.Plans;

namespace ShadowKV.Compiler.Passes;

/// <summary>
/// Puts host-memory traffic (value fetch and offload) on the fetch stream so it overlaps the key rebuild and
/// attention on the compute stream, and adds an event for every cross-stream edge: the reader waits on an event the
/// producer records. The layer's last node also waits on every fetch-stream event of the layer, so buffers that the
/// next layer reuses are never still being read by the fetch stream.
/// </summary>
public sealed class AssignStreams : IPass
{
    public const string Compute = "compute";
    public const string Fetch = "fetch";

    public string Name => "assign-streams";

    public static string StreamOf(string op) => op is OpContracts.FetchValues or OpContracts.OffloadValues ? Fetch : Compute;

    public Graph Run(Graph graph, PassContext context)
    {
        var producers = graph.Producers();
        var records = new HashSet<Node>(graph.Nodes.Where(n => IsStep(n) && graph.Nodes.Any(reader => IsStep(reader) && ReadsAcrossStreams(reader, n, producers))));
        var nodes = new List<Node>();
        Node? last = graph.InScope(NodeScope.Layer).LastOrDefault(IsStep);
        foreach (Node node in graph.Nodes)
        {
            if (!IsStep(node))
            {
                nodes.Add(node);
                continue;
            }

            Node annotated = node.WithAttribute("stream", StreamOf(node.Op));
            var waits = node.Inputs.Where(i => producers.TryGetValue(i, out Node? p) && IsStep(p) && StreamOf(p.Op) != StreamOf(node.Op))
                .Select(i => EventName(producers[i]));
            if (ReferenceEquals(node, last))
            {
                waits = waits.Concat(graph.InScope(NodeScope.Layer).Where(n => IsStep(n) && StreamOf(n.Op) == Fetch && !ReferenceEquals(n, node)).Select(EventName));
            }

            string[] distinct = waits.Distinct().OrderBy(w => w, System.StringComparer.Ordinal).ToArray();
            if (distinct.Length > 0)
            {
                annotated = annotated.WithAttribute("wait", string.Join("|", distinct));
            }

            if (records.Contains(node) || (StreamOf(node.Op) == Fetch && node.Scope == NodeScope.Layer))
            {
                annotated = annotated.WithAttribute("record", EventName(node));
            }

            nodes.Add(annotated);
        }

        return graph.WithNodes(nodes);
    }

    public static bool IsStep(Node node) => node.Op is not (IrOps.Input or IrOps.Weight or CacheRoles.CacheOp);

    private static bool ReadsAcrossStreams(Node reader, Node producer, IReadOnlyDictionary<string, Node> producers) =>
        StreamOf(reader.Op) != StreamOf(producer.Op) && reader.Inputs.Any(i => producers.TryGetValue(i, out Node? p) && ReferenceEquals(p, producer));

    private static string EventName(Node node) => "ev." + node.Result;
}
