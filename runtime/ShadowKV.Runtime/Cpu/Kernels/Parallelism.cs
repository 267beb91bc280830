using System;
using System.Threading.Tasks;

namespace ShadowKV.Runtime.Cpu.Kernels;

/// <summary>Block-wise <see cref="Parallel.For(int, int, Action{int})"/> that stays on the calling thread for small work.</summary>
internal static class Parallelism
{
    // Below this many multiply-adds a kernel runs on the calling thread: scheduling a work item costs
    // microseconds, which is more than a decode-sized RMSNorm or a small dot product takes.
    public const long SequentialWork = 1 << 15;

    /// <summary>Runs <paramref name="body"/>(start, end) over [0, count) in blocks of <paramref name="grain"/> items.</summary>
    public static void For(int count, int grain, long workPerItem, Action<int, int> body)
    {
        if (count <= 0)
        {
            return;
        }

        grain = Math.Max(1, grain);
        int blocks = (count + grain - 1) / grain;
        if (blocks == 1 || (long)count * workPerItem < SequentialWork || Environment.ProcessorCount == 1)
        {
            body(0, count);
            return;
        }

        Parallel.For(0, blocks, block =>
        {
            int start = block * grain;
            body(start, Math.Min(count, start + grain));
        });
    }
}
