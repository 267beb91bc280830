using System.Linq;
using ShadowKV.Compiler.Ir;

namespace ShadowKV.Compiler.Passes;

/// <summary>
/// Builds the nodes a rewrite puts in place of one node: same scope, same source origin (generated CUDA names the
/// C# line of the node it came from).
/// </summary>
internal sealed class NodeBuilder(Node origin)
{
    public Node Make(string op, string[] inputs, params (string Name, TensorType Type)[] results) =>
        new(op, results.Select(r => new Value(r.Name, r.Type)).ToArray(), inputs, new Attr[0], origin.Scope, origin.Origin);

    public Node Make(string op, string[] inputs, (string Key, string Value)[] attributes, params (string Name, TensorType Type)[] results) =>
        Make(op, inputs, results) with
        {
            Attributes = attributes.OrderBy(a => a.Key, System.StringComparer.Ordinal).Select(a => new Attr(a.Key, a.Value)).ToArray(),
        };

    /// <summary>A cache value that exists before this step (written by an earlier step or phase).</summary>
    public Node Cache(string name, TensorType type) => Make(CacheRoles.CacheOp, [], (name, type));
}
