using System;
using ShadowKV.Runtime.Cuda;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace ShadowKV.Runtime.Tests.Cuda;

public sealed class DeviceBufferTests
{
    [Fact]
    public void Slices_are_bounds_checked()
    {
        var buffer = new DeviceBuffer(0x1000, 1024);

        Assert.Equal(new DeviceBuffer(0x1100, 512), buffer.Slice(256, 512));
        Assert.Equal(new DeviceBuffer(0x1400, 0), buffer.Slice(1024, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.Slice(768, 512));
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.Slice(-1, 1));
    }

    [Theory]
    [InlineData(1, 256)]
    [InlineData(256, 256)]
    [InlineData(257, 512)]
    [InlineData(0, 0)]
    public void Arena_sizes_round_up_to_256_bytes(long bytes, long expected) =>
        Assert.Equal(expected, DeviceArena.AlignUp(bytes));

    [Fact]
    public void Launch_configurations_cover_every_element()
    {
        LaunchConfig config = LaunchConfig.Linear(1000, threads: 256);

        Assert.Equal(new Dim3(4), config.Grid);
        Assert.Equal(new Dim3(256), config.Block);
    }
}
