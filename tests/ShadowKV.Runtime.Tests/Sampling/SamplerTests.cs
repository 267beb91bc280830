using System;
using ShadowKV.Runtime.Engine.Sampling;

namespace ShadowKV.Runtime.Tests.Sampling;

public sealed class SamplerTests
{
    private static readonly float[] Logits = [1.0f, 3.0f, 0.5f, 2.5f, 3.0f, -1f, 0f, 2.0f];

    private static int[] Draw(SamplingOptions options, int count, float[]? logits = null)
    {
        var sampler = new Sampler(options);
        var tokens = new int[count];
        for (int i = 0; i < count; i++)
        {
            tokens[i] = sampler.Sample(logits ?? Logits);
        }

        return tokens;
    }

    [Fact]
    public void GreedyPicksTheArgmaxWithTiesToTheLowestId()
    {
        Assert.All(Draw(SamplingOptions.Greedy, 5), token => Assert.Equal(1, token));
        Assert.True(SamplingOptions.Greedy.IsGreedy);
    }

    [Fact]
    public void TopKOneEqualsGreedyAtAnyTemperature()
    {
        Assert.All(Draw(new SamplingOptions { Temperature = 5f, TopK = 1, Seed = 3 }, 50), token => Assert.Equal(1, token));
    }

    [Fact]
    public void SameSeedGivesTheSameSequenceAndOtherSeedsDiffer()
    {
        var options = new SamplingOptions { Temperature = 1.5f, Seed = 42 };
        int[] first = Draw(options, 64), second = Draw(options, 64), other = Draw(options with { Seed = 43 }, 64);
        Assert.Equal(first, second);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public void TopKNeverLeavesTheKLargest()
    {
        // k = 3: ids 1 and 4 (3.0) and 3 (2.5).
        Assert.All(Draw(new SamplingOptions { Temperature = 10f, TopK = 3, Seed = 5 }, 500), token => Assert.Contains(token, new[] { 1, 3, 4 }));
    }

    [Fact]
    public void TopPDrawsOnlyFromTheNucleusInProportion()
    {
        // Probabilities 0.5, 0.3, 0.15, 0.05: with p = 0.75 the nucleus is {0, 1} (0.5 before id 1 is below 0.75,
        // 0.8 before id 2 is not), renormalised to 0.625 / 0.375.
        float[] logits = [MathF.Log(0.5f), MathF.Log(0.3f), MathF.Log(0.15f), MathF.Log(0.05f)];
        int[] tokens = Draw(new SamplingOptions { Temperature = 1f, TopP = 0.75f, Seed = 7 }, 20000, logits);
        int zeros = 0;
        foreach (int token in tokens)
        {
            Assert.True(token is 0 or 1, $"token {token} is outside the nucleus");
            zeros += token == 0 ? 1 : 0;
        }

        // Binomial standard deviation √(n·p·(1−p)) ≈ 68; allow 5σ.
        Assert.InRange(zeros, 12500 - 340, 12500 + 340);
    }

    [Fact]
    public void TemperatureOneFollowsTheSoftmax()
    {
        float[] logits = [0f, MathF.Log(3f)]; // probabilities 0.25, 0.75
        int ones = 0;
        foreach (int token in Draw(new SamplingOptions { Temperature = 1f, Seed = 11 }, 20000, logits))
        {
            ones += token;
        }

        Assert.InRange(ones, 15000 - 310, 15000 + 310); // 5σ, σ ≈ 61
    }

    [Fact]
    public void MaskedTokensAreNeverDrawn()
    {
        float[] logits = [float.NegativeInfinity, 0f, float.NegativeInfinity, 0f, float.NaN];
        Assert.All(Draw(new SamplingOptions { Temperature = 1f, Seed = 13 }, 200, logits), token => Assert.True(token is 1 or 3));
    }

    [Fact]
    public void InvalidOptionsAreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SamplingOptions { Temperature = -0.1f });
        Assert.Throws<ArgumentOutOfRangeException>(() => new SamplingOptions { Temperature = float.NaN });
        Assert.Throws<ArgumentOutOfRangeException>(() => new SamplingOptions { TopK = -1 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new SamplingOptions { TopP = 0f });
        Assert.Throws<ArgumentOutOfRangeException>(() => new SamplingOptions { TopP = 1.01f });
        Assert.Equal(1f, new SamplingOptions().TopP);
    }

    [Fact]
    public void GeneratorSequenceIsFixedByItsDefinition()
    {
        // Pinned values: a change to the generator (and so to every seeded sample) must be deliberate.
        var random = new DeterministicRandom(0);
        ulong first = random.NextUInt64(), second = random.NextUInt64();
        var again = new DeterministicRandom(0);
        Assert.Equal(first, again.NextUInt64());
        Assert.Equal(second, again.NextUInt64());
        Assert.NotEqual(first, second);
        Assert.Equal(0x99EC5F36CB75F2B4UL, first);
    }
}
