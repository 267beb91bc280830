using System;
using System.Buffers.Binary;
using System.Diagnostics;
using System.IO;
using System.Text;
using ShadowKV.Runtime.Engine.Checkpoints;

namespace ShadowKV.Runtime.Tests.Checkpoints;

// The header parser is the first thing to touch a downloaded file. Whatever the bytes, it must answer with a
// CheckpointException (or a valid checkpoint) quickly — never another exception type, a hang or a huge allocation.
public class SafetensorsFuzzTests
{
    private static readonly TimeSpan PerCaseLimit = TimeSpan.FromSeconds(1);

    private static byte[] ValidFile() => new SafetensorsWriter()
        .AddF32("model.embed_tokens.weight", [4, 2], [1, 2, 3, 4, 5, 6, 7, 8])
        .Add("model.norm.weight", "BF16", [2], [0, 0x3F, 0, 0x40])
        .Add("lm_head.weight", "F16", [2, 2], new byte[8])
        .ToBytes();

    [Fact]
    public void RandomBytes()
    {
        var random = new Random(1234);
        for (int i = 0; i < 2000; i++)
        {
            var bytes = new byte[random.Next(0, 96)];
            random.NextBytes(bytes);
            if (bytes.Length >= 8 && random.Next(2) == 0)
            {
                // A plausible length prefix gets the fuzzer past the first check most of the time.
                BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)random.Next(0, bytes.Length - 7));
            }

            ParseOnlyThrowsCheckpointException(bytes, $"random #{i}");
        }
    }

    [Fact]
    public void TruncatedValidFiles()
    {
        byte[] valid = ValidFile();
        Assert.Equal(3, ParseOnlyThrowsCheckpointException(valid, "valid")); // the harness accepts a good file
        for (int length = 0; length < valid.Length; length++)
        {
            ParseOnlyThrowsCheckpointException(valid.AsSpan(0, length).ToArray(), $"truncated to {length}");
        }
    }

    [Fact]
    public void ByteFlippedHeaders()
    {
        var random = new Random(42);
        byte[] valid = ValidFile();
        int headerEnd = 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(valid);
        for (int i = 0; i < 3000; i++)
        {
            byte[] bytes = (byte[])valid.Clone();
            int flips = random.Next(1, 4);
            for (int f = 0; f < flips; f++)
            {
                bytes[random.Next(0, headerEnd)] ^= (byte)(1 << random.Next(8));
            }

            ParseOnlyThrowsCheckpointException(bytes, $"flip #{i}");
        }
    }

    [Fact]
    public void JsonEditedHeaders()
    {
        var random = new Random(7);
        var writer = new SafetensorsWriter()
            .AddF32("a", [2, 2], [1, 2, 3, 4])
            .AddF32("b", [3], [5, 6, 7]);
        string header = writer.HeaderJson();
        string[] replacements =
        [
            "-1", "0", "1e999", "1.5", "null", "true", "\"x\"", "[]", "{}", "[[]]", "9223372036854775807", "18446744073709551616",
            "\"\\ud800\"", "\"F32\"", "\"BF16\"", "[0,4]", "[4,0]", "[0,1,2]", "\"__metadata__\"", "{\"dtype\":\"F32\"}", "[-1]",
        ];
        for (int i = 0; i < 3000; i++)
        {
            string edited = Mutate(header, random, replacements);
            ParseOnlyThrowsCheckpointException(writer.Compose(edited), $"json edit #{i}: {edited}");
        }
    }

    [Fact]
    public void ManyFilesThroughTheMappedReader()
    {
        // The in-memory parser is what the mapped reader calls; a few hundred real files keep the two joined.
        using var dir = new TempDirectory();
        var random = new Random(99);
        byte[] valid = ValidFile();
        string path = dir.File("fuzz.safetensors");
        for (int i = 0; i < 200; i++)
        {
            byte[] bytes = (byte[])valid.Clone();
            bytes[random.Next(0, bytes.Length)] ^= (byte)(1 << random.Next(8));
            File.WriteAllBytes(path, random.Next(4) == 0 ? bytes.AsSpan(0, random.Next(bytes.Length)).ToArray() : bytes);
            try
            {
                using SafetensorsFile file = SafetensorsFile.Open(path);
                foreach (CheckpointTensor tensor in file.Tensors.Values)
                {
                    _ = tensor.Bytes.Length;
                }
            }
            catch (CheckpointException)
            {
            }
        }
    }

    private static string Mutate(string json, Random random, string[] replacements)
    {
        var text = new StringBuilder(json);
        int edits = random.Next(1, 3);
        for (int e = 0; e < edits; e++)
        {
            int start = random.Next(text.Length);
            int length = Math.Min(random.Next(0, 8), text.Length - start);
            switch (random.Next(4))
            {
                case 0: text.Remove(start, length); break;
                case 1: text.Insert(start, replacements[random.Next(replacements.Length)]); break;
                case 2: text.Remove(start, length).Insert(start, replacements[random.Next(replacements.Length)]); break;
                default: text.Insert(start, text.ToString(start, length)); break; // duplicate a span
            }
        }

        return text.ToString();
    }

    // Returns the number of tensors when the bytes were accepted.
    private static int ParseOnlyThrowsCheckpointException(byte[] bytes, string label)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            int headerLength = SafetensorsHeader.ReadHeaderLength(bytes, bytes.Length, "fuzz.safetensors");
            return SafetensorsHeader.Parse(bytes.AsSpan(8, headerLength), bytes.Length, "fuzz.safetensors").Count;
        }
        catch (CheckpointException)
        {
            return -1;
        }
        catch (Exception e)
        {
            Assert.Fail($"{label}: {e.GetType().Name} escaped: {e.Message}");
            return -1;
        }
        finally
        {
            Assert.True(clock.Elapsed < PerCaseLimit, $"{label}: took {clock.ElapsedMilliseconds} ms");
        }
    }
}
