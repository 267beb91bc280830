using System;
using System.Linq;

namespace ShadowKV.Gpu.Tests.Support;

/// <summary>Seeded prompts for the end-to-end tests: BOS (1), then ids drawn from [3, <c>vocab</c>).</summary>
internal static class Prompts
{
    public static int[] Random(int length, int seed, int vocab)
    {
        var random = new System.Random(seed);
        return [1, .. Enumerable.Range(1, length - 1).Select(_ => random.Next(3, vocab))];
    }
}
