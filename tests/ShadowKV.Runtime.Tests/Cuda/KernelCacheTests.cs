using System;
using ShadowKV.Runtime.Cuda;
using ShadowKV.Runtime.Interop;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace ShadowKV.Runtime.Tests.Cuda;

public sealed class KernelCacheTests : IDisposable
{
    private static readonly string[] Names = [TestKernels.PlainName, TestKernels.TemplateName];
    private readonly string directory = Path.Combine(Path.GetTempPath(), "skv-kernel-cache-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Second_compile_of_the_same_source_is_a_hit_with_identical_output()
    {
        NvrtcRequirement.Require();
        var cache = new KernelCache(directory);

        CompiledKernels first = cache.Compile("test_kernels.cu", TestKernels.Source, "sm_80", Names);
        CompiledKernels second = new KernelCache(directory).Compile("test_kernels.cu", TestKernels.Source, "sm_80", Names);

        Assert.False(first.FromCache);
        Assert.True(second.FromCache);
        Assert.Equal(first.Cubin, second.Cubin);
        Assert.Equal(first.LoweredNames, second.LoweredNames);
        Assert.Equal(first.CacheKey, second.CacheKey);
        Assert.Equal(new KernelCacheStats(Hits: 0, Misses: 1, CorruptEntries: 0, WriteFailures: 0, first.Elapsed), cache.Stats);
        Assert.Single(Directory.GetFiles(directory, "*" + KernelCache.EntryExtension));
        Assert.Empty(Directory.GetFiles(directory, "*.tmp")); // the atomic write left no temporary behind
    }

    [Fact]
    public void A_corrupted_entry_is_recompiled_and_rewritten()
    {
        NvrtcRequirement.Require();
        var cache = new KernelCache(directory);
        CompiledKernels original = cache.Compile("test_kernels.cu", TestKernels.Source, "sm_80", Names);
        string entry = Directory.GetFiles(directory, "*" + KernelCache.EntryExtension).Single();

        byte[] bytes = File.ReadAllBytes(entry);
        bytes[bytes.Length / 2] ^= 0xFF; // a flipped byte inside the cubin
        File.WriteAllBytes(entry, bytes);
        CompiledKernels recompiled = cache.Compile("test_kernels.cu", TestKernels.Source, "sm_80", Names);
        CompiledKernels after = cache.Compile("test_kernels.cu", TestKernels.Source, "sm_80", Names);

        Assert.False(recompiled.FromCache);
        Assert.Equal(original.Cubin, recompiled.Cubin);
        Assert.True(after.FromCache);
        Assert.Equal((1, 2, 1), (cache.Stats.Hits, cache.Stats.Misses, cache.Stats.CorruptEntries));
    }

    [Fact]
    public void A_truncated_entry_is_recompiled()
    {
        NvrtcRequirement.Require();
        var cache = new KernelCache(directory);
        cache.Compile("test_kernels.cu", TestKernels.Source, "sm_80", Names);
        string entry = Directory.GetFiles(directory, "*" + KernelCache.EntryExtension).Single();

        File.WriteAllBytes(entry, File.ReadAllBytes(entry)[..10]);
        CompiledKernels recompiled = cache.Compile("test_kernels.cu", TestKernels.Source, "sm_80", Names);

        Assert.False(recompiled.FromCache);
        Assert.Equal(1, cache.Stats.CorruptEntries);
    }

    [Fact]
    public void Different_architectures_are_different_entries()
    {
        NvrtcRequirement.Require();
        var cache = new KernelCache(directory);

        CompiledKernels ampere = cache.Compile("test_kernels.cu", TestKernels.Source, "sm_80", Names);
        CompiledKernels hopper = cache.Compile("test_kernels.cu", TestKernels.Source, "sm_90", Names);

        Assert.NotEqual(ampere.CacheKey, hopper.CacheKey);
        Assert.False(hopper.FromCache);
        Assert.Equal(2, Directory.GetFiles(directory, "*" + KernelCache.EntryExtension).Length);
    }

    [Fact]
    public void A_compile_error_is_reported_and_not_cached()
    {
        NvrtcRequirement.Require();
        var cache = new KernelCache(directory);

        var error = Assert.Throws<NvrtcException>(() => cache.Compile("broken.cu", TestKernels.Broken, "sm_80", ["broken"]));

        Assert.Contains("broken.cu", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(directory) && Directory.EnumerateFiles(directory).Any());
    }

    [Fact]
    public void The_architecture_is_not_accepted_as_an_option()
    {
        var cache = new KernelCache(directory);

        Assert.Throws<ArgumentException>(() =>
            cache.Compile("test_kernels.cu", TestKernels.Source, "sm_80", Names, ["-std=c++17", "--gpu-architecture=sm_90"]));
    }

    [Fact]
    public void The_key_ignores_the_order_of_options_and_names_but_not_their_content()
    {
        string key = KernelCache.Key("src", ["-a", "-b"], "sm_90a", "13.0", ["f", "g<1>"]);

        Assert.Equal(key, KernelCache.Key("src", ["-b", "-a"], "sm_90a", "13.0", ["g<1>", "f"]));
        Assert.NotEqual(key, KernelCache.Key("src ", ["-a", "-b"], "sm_90a", "13.0", ["f", "g<1>"]));
        Assert.NotEqual(key, KernelCache.Key("src", ["-a"], "sm_90a", "13.0", ["f", "g<1>"]));
        Assert.NotEqual(key, KernelCache.Key("src", ["-a", "-b"], "sm_90", "13.0", ["f", "g<1>"]));
        Assert.NotEqual(key, KernelCache.Key("src", ["-a", "-b"], "sm_90a", "12.8", ["f", "g<1>"]));
        Assert.NotEqual(key, KernelCache.Key("src", ["-a", "-b"], "sm_90a", "13.0", ["f", "g<2>"]));
        // Length prefixes keep concatenations apart: ["-a-b"] is not ["-a", "-b"].
        Assert.NotEqual(key, KernelCache.Key("src", ["-a-b"], "sm_90a", "13.0", ["f", "g<1>"]));
    }

    [Fact]
    public void The_default_folder_follows_the_environment_variable()
    {
        string? saved = Environment.GetEnvironmentVariable(KernelCache.DirectoryVariable);
        try
        {
            Environment.SetEnvironmentVariable(KernelCache.DirectoryVariable, directory);
            Assert.Equal(directory, new KernelCache().Directory);
            Environment.SetEnvironmentVariable(KernelCache.DirectoryVariable, null);
            Assert.EndsWith(Path.Combine(".cache", "shadowkv", "kernels"), KernelCache.DefaultDirectory(), StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable(KernelCache.DirectoryVariable, saved);
        }
    }
}
