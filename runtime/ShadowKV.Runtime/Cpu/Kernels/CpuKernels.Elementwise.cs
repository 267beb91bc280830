using System;
using System.Numerics.Tensors;

namespace ShadowKV.Runtime.Cpu.Kernels;

// Layout: activations are token-major, x [T, hidden] with T = every token of the step across a ragged batch.
// All operators are float32 and follow the Hugging Face definitions operation by operation, so that the
// CPU backend rounds where PyTorch's float32 path rounds.

/// <summary>
/// The CPU backend's operators (float32). They are the numeric oracle for the GPU kernels and the no-GPU
/// fallback of the engine; the plan executor calls them with spans over its own buffers.
/// </summary>
public static unsafe partial class CpuKernels
{
    /// <summary>x[t, :] = table[tokens[t], :]. table [V, hidden], x [T, hidden].</summary>
    public static void EmbeddingGather(ReadOnlySpan<int> tokens, ReadOnlySpan<float> table, int hidden, Span<float> x)
    {
        int vocab = table.Length / hidden;
        RequireLength(x, tokens.Length * hidden, nameof(x));
        for (int t = 0; t < tokens.Length; t++)
        {
            int id = tokens[t];
            if ((uint)id >= (uint)vocab)
            {
                throw new ArgumentOutOfRangeException(nameof(tokens), $"Token {id} at index {t} is outside the vocabulary [0, {vocab}).");
            }

            table.Slice(id * hidden, hidden).CopyTo(x.Slice(t * hidden, hidden));
        }
    }

    /// <summary>
    /// y = x · rsqrt(mean(x²) + eps) · weight per row, as Hugging Face's LlamaRMSNorm in float32.
    /// x, y [T, hidden] (y may alias x), weight [hidden].
    /// </summary>
    public static void RmsNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, float eps, Span<float> y)
    {
        int hidden = weight.Length;
        int tokens = x.Length / hidden;
        RequireLength(y, x.Length, nameof(y));
        fixed (float* px = x, pw = weight, py = y)
        {
            float* xs = px, ws = pw, ys = py;
            Parallelism.For(tokens, 64, hidden, (start, end) =>
            {
                for (int t = start; t < end; t++)
                {
                    NormalizeRow(new ReadOnlySpan<float>(xs + (long)t * hidden, hidden), new ReadOnlySpan<float>(ws, hidden),
                        eps, new Span<float>(ys + (long)t * hidden, hidden));
                }
            });
        }
    }

    /// <summary>
    /// Fused residual add and norm: x += y (the residual stream), then h = RmsNorm(x). x, y, h [T, hidden].
    /// </summary>
    public static void AddRmsNorm(Span<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> weight, float eps, Span<float> h)
    {
        int hidden = weight.Length;
        int tokens = x.Length / hidden;
        RequireLength(y, x.Length, nameof(y));
        RequireLength(h, x.Length, nameof(h));
        fixed (float* px = x, py = y, pw = weight, ph = h)
        {
            float* xs = px, ys = py, ws = pw, hs = ph;
            Parallelism.For(tokens, 64, hidden, (start, end) =>
            {
                for (int t = start; t < end; t++)
                {
                    var row = new Span<float>(xs + (long)t * hidden, hidden);
                    TensorPrimitives.Add(row, new ReadOnlySpan<float>(ys + (long)t * hidden, hidden), row);
                    NormalizeRow(row, new ReadOnlySpan<float>(ws, hidden), eps, new Span<float>(hs + (long)t * hidden, hidden));
                }
            });
        }
    }

    /// <summary>output = silu(gate) · up (SwiGLU), silu(g) = g · sigmoid(g). gate, up, output [T, I]; output may alias either input.</summary>
    public static void SiluMul(ReadOnlySpan<float> gate, ReadOnlySpan<float> up, Span<float> output)
    {
        RequireLength(up, gate.Length, nameof(up));
        RequireLength(output, gate.Length, nameof(output));
        // Block-wise through a stack buffer so output may overwrite gate in place; products in HF's order
        // (g · σ(g)) · up.
        Span<float> silu = stackalloc float[512];
        for (int start = 0; start < gate.Length; start += silu.Length)
        {
            int n = Math.Min(silu.Length, gate.Length - start);
            Span<float> block = silu[..n];
            ReadOnlySpan<float> g = gate.Slice(start, n);
            TensorPrimitives.Sigmoid(g, block);
            TensorPrimitives.Multiply(block, g, block);
            TensorPrimitives.Multiply(block, up.Slice(start, n), output.Slice(start, n));
        }
    }

    /// <summary>Numerically stable softmax in place: x = exp(x − max) / Σ exp(x − max).</summary>
    public static void Softmax(Span<float> x)
    {
        if (x.IsEmpty)
        {
            return;
        }

        float max = TensorPrimitives.Max(x);
        TensorPrimitives.Subtract(x, max, x);
        TensorPrimitives.Exp(x, x);
        float sum = TensorPrimitives.Sum(x);
        TensorPrimitives.Divide(x, sum, x);
    }

    /// <summary>Index of the largest value; ties go to the lowest index, NaN is never chosen over a number.</summary>
    public static int Argmax(ReadOnlySpan<float> x)
    {
        if (x.IsEmpty)
        {
            throw new ArgumentException("Argmax of an empty span.", nameof(x));
        }

        int best = 0;
        float bestValue = x[0];
        for (int i = 1; i < x.Length; i++)
        {
            // Strictly greater keeps the first of equal values; the NaN test lets a number replace a leading NaN.
            if (x[i] > bestValue || (float.IsNaN(bestValue) && !float.IsNaN(x[i])))
            {
                best = i;
                bestValue = x[i];
            }
        }

        return best;
    }

    private static void NormalizeRow(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, float eps, Span<float> y)
    {
        float variance = TensorPrimitives.SumOfSquares(x) / x.Length;
        float scale = 1f / MathF.Sqrt(variance + eps);
        // HF rounds x·rsqrt first, then multiplies by the weight.
        TensorPrimitives.Multiply(x, scale, y);
        TensorPrimitives.Multiply(y, weight, y);
    }

    private static void RequireLength<T>(ReadOnlySpan<T> span, long length, string name)
    {
        if (span.Length < length)
        {
            throw new ArgumentException($"'{name}' holds {span.Length} elements; the shape needs {length}.", name);
        }
    }

    private static void RequireLength<T>(Span<T> span, long length, string name) => RequireLength((ReadOnlySpan<T>)span, length, name);
}
