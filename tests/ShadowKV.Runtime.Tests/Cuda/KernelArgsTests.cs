using System;
using ShadowKV.Runtime.Cuda;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace ShadowKV.Runtime.Tests.Cuda;

public sealed unsafe class KernelArgsTests
{
    [Fact]
    public void Each_argument_pointer_points_at_its_value_with_16_byte_alignment()
    {
        using var args = new KernelArgs();

        args.Add(new DeviceBuffer(0xABCDEF00UL, 64)).Add(42).Add(1.5f).Add((ushort)7);

        Assert.Equal(4, args.Count);
        Assert.Equal(0xABCDEF00UL, *(ulong*)args.Pointers[0]);
        Assert.Equal(42, *(int*)args.Pointers[1]);
        Assert.Equal(1.5f, *(float*)args.Pointers[2]);
        Assert.Equal((ushort)7, *(ushort*)args.Pointers[3]);
        for (int i = 0; i < args.Count; i++)
        {
            Assert.Equal(0UL, (ulong)args.Pointers[i] % 16);
        }
    }

    [Fact]
    public void Clear_reuses_the_storage()
    {
        using var args = new KernelArgs();
        args.Add(1).Add(2);
        void* first = args.Pointers[0];

        args.Clear().Add(3);

        Assert.Equal(1, args.Count);
        Assert.Equal((nint)first, (nint)args.Pointers[0]);
        Assert.Equal(3, *(int*)args.Pointers[0]);
    }

    [Fact]
    public void Too_many_bytes_are_refused()
    {
        using var args = new KernelArgs();

        Assert.Throws<InvalidOperationException>(() =>
        {
            for (int i = 0; i < 300; i++)
            {
                args.Add(i);
            }
        });
    }
}
