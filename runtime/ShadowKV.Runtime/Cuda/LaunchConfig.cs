using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;

namespace ShadowKV.Runtime.Cuda;

/// <summary>Grid or block dimensions.</summary>
public readonly record struct Dim3(uint X, uint Y = 1, uint Z = 1)
{
    public ulong Total => (ulong)X * Y * Z;

    public static implicit operator Dim3(uint x) => new(x);

    public override string ToString() => $"({X},{Y},{Z})";
}

/// <summary>How a kernel is launched: grid, block and dynamic shared memory in bytes.</summary>
public readonly record struct LaunchConfig(Dim3 Grid, Dim3 Block, int SharedMemoryBytes = 0)
{
    /// <summary>One-dimensional launch covering <paramref name="elements"/> with <paramref name="threads"/> per block.</summary>
    public static LaunchConfig Linear(long elements, uint threads = 256, int sharedMemoryBytes = 0) =>
        new(new Dim3((uint)((elements + threads - 1) / threads)), new Dim3(threads), sharedMemoryBytes);

    public override string ToString() => $"grid {Grid} block {Block} smem {SharedMemoryBytes}";
}
