using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using ShadowKV.Runtime.Engine.Checkpoints;
using ShadowKV.Runtime.Tests.Support;

namespace ShadowKV.Runtime.Tests.Checkpoints;

public class SafetensorsTests
{
    [Fact]
    public void ConvertsF32F16AndBF16()
    {
        using var dir = new TempDirectory();
        float[] values = [1.5f, -2.25f, 0f, 65280f, 3.140625f, -0.0078125f];
        byte[] f16 = values.SelectMany(v => BitConverter.GetBytes((Half)v)).ToArray();
        byte[] bf16 = values.SelectMany(v => BitConverter.GetBytes((ushort)(BitConverter.SingleToUInt32Bits(v) >> 16))).ToArray();
        string file = new SafetensorsWriter()
            .AddF32("a", [2, 3], values)
            .Add("h", "F16", [6], f16)
            .Add("b", "BF16", [3, 2], bf16)
            .Add("ids", "I64", [2], new byte[16])
            .WriteTo(dir.File("model.safetensors"));

        using SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.Open(dir.Path);
        Assert.Equal(values, checkpoint.Tensors["a"].ToFloat32());
        Assert.Equal(values, checkpoint.Tensors["h"].ToFloat32());
        Assert.Equal(values, checkpoint.Tensors["b"].ToFloat32()); // all values are exact in bf16
        Assert.Equal([3L, 2L], checkpoint.Tensors["b"].Shape);
        Assert.Equal(checkpoint.Tensors["b"].ToBFloat16(), checkpoint.Tensors["a"].ToBFloat16());
        Assert.Equal(checkpoint.Tensors["b"].ToBFloat16(), checkpoint.Tensors["h"].ToBFloat16());
        var refused = Assert.Throws<CheckpointException>(() => checkpoint.Tensors["ids"].ToFloat32());
        Assert.Contains("I64", refused.Message);
    }

    [Theory]
    [InlineData(0x3F808000u, (ushort)0x3F80)] // exactly halfway, even below: round down
    [InlineData(0x3F818000u, (ushort)0x3F82)] // exactly halfway, odd below: round up to even
    [InlineData(0x3F808001u, (ushort)0x3F81)] // above halfway: round up
    [InlineData(0x7F7FFFFFu, (ushort)0x7F80)] // max float rounds to infinity, as PyTorch does
    [InlineData(0xFF800000u, (ushort)0xFF80)] // -infinity
    public void SingleToBFloat16RoundsToNearestEven(uint bits, ushort expected)
    {
        Assert.Equal(expected, FloatConversions.SingleToBFloat16(BitConverter.UInt32BitsToSingle(bits)));
    }

    [Fact]
    public void NaNStaysNaN()
    {
        ushort bits = FloatConversions.SingleToBFloat16(BitConverter.UInt32BitsToSingle(0x7F800001u));
        Assert.True(float.IsNaN(FloatConversions.BFloat16ToSingle(bits)));
    }

    [Fact]
    public void Stories260kCheckpointOpens()
    {
        string dir = SharedData.RequireDirectory("models/stories260K");
        using SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.Open(dir);
        CheckpointTensor embedding = checkpoint.Tensors["model.embed_tokens.weight"];
        Assert.Equal(SafetensorsDType.F32, embedding.DType);
        Assert.Equal([512L, 64L], embedding.Shape);
        Assert.Contains(embedding.ToFloat32(), v => v != 0f);
    }

    [Fact]
    public void ShardedCheckpointFollowsTheIndex()
    {
        using var dir = new TempDirectory();
        new SafetensorsWriter().AddF32("x", [2], [1f, 2f]).AddF32("w", [1], [0f]).WriteTo(dir.File("model-00001-of-00002.safetensors"));
        new SafetensorsWriter().AddF32("y", [1], [3f]).WriteTo(dir.File("model-00002-of-00002.safetensors"));
        WriteIndex(dir, ("x", "model-00001-of-00002.safetensors"), ("w", "model-00001-of-00002.safetensors"), ("y", "model-00002-of-00002.safetensors"));
        using (SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.Open(dir.Path))
        {
            Assert.Equal(2, checkpoint.Files.Count);
            Assert.Equal([3f], checkpoint.Tensors["y"].ToFloat32());
        }

        WriteIndex(dir, ("x", "model-00001-of-00002.safetensors"), ("w", "model-00001-of-00002.safetensors"), ("y", "model-00002-of-00002.safetensors"), ("z", "model-00002-of-00002.safetensors"));
        var notInShard = Assert.Throws<CheckpointException>(() => SafetensorsCheckpoint.Open(dir.Path));
        Assert.Equal("z", notInShard.Tensor);
        Assert.Contains("does not contain it", notInShard.Message);

        WriteIndex(dir, ("x", "model-00001-of-00002.safetensors"), ("w", "model-00001-of-00002.safetensors"), ("y", "model-00003-of-00003.safetensors"));
        var missingShard = Assert.Throws<CheckpointException>(() => SafetensorsCheckpoint.Open(dir.Path));
        Assert.Contains("model-00003-of-00003.safetensors", missingShard.Message);
        Assert.Contains("missing", missingShard.Message);

        // An opened shard holding a tensor the index does not list: index and shards are from different saves.
        WriteIndex(dir, ("x", "model-00001-of-00002.safetensors"), ("y", "model-00002-of-00002.safetensors"));
        var unlisted = Assert.Throws<CheckpointException>(() => SafetensorsCheckpoint.Open(dir.Path));
        Assert.Equal("w", unlisted.Tensor);
        Assert.Contains("not in model.safetensors.index.json's weight_map", unlisted.Message);
    }

    public static TheoryData<string, string, string> MalformedHeaders => new()
    {
        { """{"w":{"shape":[2],"data_offsets":[0,8]}}""", "w", "no string 'dtype'" },
        { """{"w":{"dtype":"F32","data_offsets":[0,8]}}""", "w", "no 'shape'" },
        { """{"w":{"dtype":"F32","shape":[2]}}""", "w", "data_offsets" },
        { """{"w":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}}""", "w", "unknown dtype 'Q4'" },
        { """{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}""", "w", "not a non-negative integer" },
        { """{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,80]}}""", "w", "past the" },
        { """{"w":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}""", "w", "begin after they end" },
        { """{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", "w", "needs 12" },
        { """{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"v":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", "v", "overlaps tensor 'w'" },
        { """{"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}}""", "w", "overflows" },
        { """[1,2,3]""", "", "expected an object" },
        { """{"w":""", "", "not valid JSON" },
        { """{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", "w", "twice" },
    };

    [Theory]
    [MemberData(nameof(MalformedHeaders))]
    public void MalformedHeadersNameFileTensorAndProblem(string header, string tensor, string problem)
    {
        using var dir = new TempDirectory();
        string file = dir.File("bad.safetensors");
        File.WriteAllBytes(file, new SafetensorsWriter().AddF32("w", [2], [1f, 2f]).Compose(header));
        var e = Assert.Throws<CheckpointException>(() => SafetensorsFile.Open(file));
        Assert.Contains(file, e.Message);
        Assert.Contains(problem, e.Message);
        Assert.Equal(tensor.Length == 0 ? null : tensor, e.Tensor);
    }

    [Fact]
    public void TruncatedAndAbsurdLengthsAreRejected()
    {
        using var dir = new TempDirectory();
        string file = dir.File("t.safetensors");
        File.WriteAllBytes(file, [1, 2, 3]);
        Assert.Contains("shorter than the 8-byte", Assert.Throws<CheckpointException>(() => SafetensorsFile.Open(file)).Message);
        File.WriteAllBytes(file, [0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, (byte)'{', (byte)'}']);
        Assert.Contains("100 MB", Assert.Throws<CheckpointException>(() => SafetensorsFile.Open(file)).Message);
        File.WriteAllBytes(file, [64, 0, 0, 0, 0, 0, 0, 0, (byte)'{', (byte)'}']);
        Assert.Contains("past the end", Assert.Throws<CheckpointException>(() => SafetensorsFile.Open(file)).Message);
        Assert.Contains("not found", Assert.Throws<CheckpointException>(() => SafetensorsFile.Open(dir.File("none.safetensors"))).Message);
    }

    private static void WriteIndex(TempDirectory dir, params (string Tensor, string Shard)[] map)
    {
        string entries = string.Join(",", map.Select(m => $"\"{m.Tensor}\":\"{m.Shard}\""));
        File.WriteAllText(dir.File(SafetensorsCheckpoint.IndexFileName), $"{{\"metadata\":{{}},\"weight_map\":{{{entries}}}}}", Encoding.UTF8);
    }
}
