namespace ShadowKV.Compiler;

/// <summary>Where ShadowKV keeps the prompt's values during decoding.</summary>
public enum ValuePlacement
{
    /// <summary>Pinned host memory, fetched per step on a side stream (the paper's layout).</summary>
    Host,

    /// <summary>GPU memory (fewer sequences fit, no PCIe traffic).</summary>
    Gpu,
}
