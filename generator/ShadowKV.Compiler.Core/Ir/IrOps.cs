namespace ShadowKV.Compiler.Ir;

/// <summary>
/// IR ops that exist only before lowering. After the pipeline every node's op is a plan op from
/// <see cref="Plans.OpContracts"/> (or input/weight), so the plan is the lowered graph in launch order.
/// </summary>
public static class IrOps
{
    public const string Input = "input";
    public const string Weight = "weight";
    public const string Add = "add";
    public const string Mul = "mul";
    public const string Silu = "silu";
    public const string Attention = "attention";
    public const string Rope = "rope";
    public const string KvAppend = "kv_append";
    public const string KvAppendGenerated = "kv_append_generated";
}
