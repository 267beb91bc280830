using System.Collections.Generic;
using System.Linq;
using ShadowKV.Compiler.Ir;
using ShadowKV.Compiler.Plans;

namespace ShadowKV.Compiler.Frontend;

/// <summary>
/// Builds the model graph from a parsed spec: the per-step metadata inputs and the embedding (prologue), the
/// [Layer] body (layer scope), and the final norm and LM head (epilogue). The prologue/epilogue follow the model's
/// [WeightMap]; every model family shares them.
/// </summary>
public static class GraphBuilder
{
    /// <summary>Per-step metadata the engine writes before each forward pass (see OpContracts).</summary>
    public static IReadOnlyList<(string Name, TensorType Type)> MetadataInputs { get; } =
    [
        ("tokens", TensorType.Of(DataType.I32, "T")),
        ("positions", TensorType.Of(DataType.I32, "T")),
        ("token_seq", TensorType.Of(DataType.I32, "T")),
        ("last_row", TensorType.Of(DataType.I32, "B")),
        ("context_len", TensorType.Of(DataType.I32, "B")),
        ("prompt_len", TensorType.Of(DataType.I32, "B")),
        ("inv_freq", TensorType.Of(DataType.F32, "d/2")),
    ];

    public static Graph Build(ModelSpec spec)
    {
        string file = spec.FileName;
        var nodes = new List<Node>();
        Node Make(string op, string result, TensorType? type, string[] inputs, Attr[] attrs, NodeScope scope, SourceOrigin origin) =>
            new(op, new[] { new Value(result, type) }, inputs, attrs, scope, origin);

        foreach (var (name, type) in MetadataInputs)
        {
            nodes.Add(Make(IrOps.Input, name, type, [], [], NodeScope.Prologue, SourceOrigin.Compiler(file, "metadata")));
        }

        SourceOrigin mapOrigin = SourceOrigin.Compiler(file, "[WeightMap]");
        nodes.Add(WeightNode("w.embed_tokens", spec.WeightMap.Embedding, ["vocab", "hidden"], NodeScope.Prologue, mapOrigin));
        nodes.Add(Make(OpContracts.Embedding, spec.LayerInput, null, ["tokens", "w.embed_tokens"], [], NodeScope.Prologue, mapOrigin));

        foreach (WeightSpec weight in spec.LayerWeights)
        {
            nodes.Add(WeightNode(weight.Value, spec.WeightMap.LayerPrefix + weight.Checkpoint, weight.Shape.ToArray(), NodeScope.Layer, weight.Origin));
        }

        foreach (SpecOp op in spec.Body)
        {
            nodes.Add(Make(op.Op, op.Result, null, op.Args.ToArray(), op.Attributes.ToArray(), NodeScope.Layer, op.Origin));
        }

        nodes.Add(WeightNode("w.norm", spec.WeightMap.FinalNorm, ["hidden"], NodeScope.Epilogue, mapOrigin));
        nodes.Add(WeightNode("w.lm_head", spec.WeightMap.LmHead, ["vocab", "hidden"], NodeScope.Epilogue, mapOrigin));
        nodes.Add(Make(OpContracts.GatherRows, "x.last", null, [spec.LayerOutput, "last_row"], [], NodeScope.Epilogue, mapOrigin));
        nodes.Add(Make(OpContracts.RmsNorm, "h.final", null, ["x.last", "w.norm"], [new Attr("eps", "rms_eps")], NodeScope.Epilogue, mapOrigin));
        nodes.Add(Make(OpContracts.Linear, "logits", null, ["h.final", "w.lm_head", "", ""], [], NodeScope.Epilogue, mapOrigin));

        return new Graph(spec.ClassName, "model", null, AttentionVariant.Full, nodes.ToArray(), spec.LayerInput, spec.LayerOutput, new[] { "logits" });
    }

    private static Node WeightNode(string value, string checkpoint, string[] shape, NodeScope scope, SourceOrigin origin) =>
        new(IrOps.Weight, new[] { new Value(value, TensorType.Of(DataType.BF16, shape)) }, [], new[] { new Attr("checkpoint", Quote(checkpoint)) }, scope, origin);

    private static string Quote(string text) => "\"" + text + "\"";
}
