using System.IO;
using ShadowKV.Gpu.Tests.Support;

namespace ShadowKV.Gpu.Tests;

public sealed class SharedDataTests
{
    [Fact]
    public void The_packed_suite_carries_the_small_model()
    {
        string model = SharedData.RequireDirectory(Path.Combine("models", "stories260K"));

        Assert.True(File.Exists(Path.Combine(model, "config.json")));
        Assert.True(File.Exists(Path.Combine(model, "model.safetensors")));
    }
}
