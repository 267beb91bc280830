using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Threading;

namespace ShadowKV.Runtime.Cuda;

// One file per entry: "SKVK", format version, key, lowered names, cubin, then a SHA-256 of everything before it.
public sealed partial class KernelCache
{
    public const string EntryExtension = ".skvk";

    private const int FormatVersion = 1;
    private static readonly byte[] Magic = "SKVK"u8.ToArray();

    private enum ReadOutcome
    {
        Missing,
        Hit,
        Corrupt,
    }

    private static ReadOutcome TryRead(
        string path, string key, IReadOnlyList<string> nameExpressions, out byte[] cubin, out Dictionary<string, string> lowered)
    {
        cubin = [];
        lowered = new Dictionary<string, string>(StringComparer.Ordinal);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return ReadOutcome.Missing;
        }

        const int hashBytes = 32;
        if (bytes.Length < Magic.Length + hashBytes ||
            !SHA256.HashData(bytes.AsSpan(0, bytes.Length - hashBytes)).AsSpan().SequenceEqual(bytes.AsSpan(bytes.Length - hashBytes)))
        {
            return ReadOutcome.Corrupt;
        }

        try
        {
            using var reader = new BinaryReader(new MemoryStream(bytes, 0, bytes.Length - hashBytes), Encoding.UTF8);
            if (!reader.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic) || reader.ReadInt32() != FormatVersion || reader.ReadString() != key)
            {
                return ReadOutcome.Corrupt;
            }

            int count = reader.ReadInt32();
            for (int i = 0; i < count; i++)
            {
                string expression = reader.ReadString();
                lowered[expression] = reader.ReadString();
            }

            cubin = reader.ReadBytes(reader.ReadInt32());
            bool complete = cubin.Length > 0 && nameExpressions.All(lowered.ContainsKey);
            return complete ? ReadOutcome.Hit : ReadOutcome.Corrupt;
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or FormatException or ArgumentException)
        {
            return ReadOutcome.Corrupt;
        }
    }

    private static bool TryWrite(string path, string key, byte[] cubin, IReadOnlyDictionary<string, string> lowered)
    {
        string temporary = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using var stream = new MemoryStream();
            using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
            {
                writer.Write(Magic);
                writer.Write(FormatVersion);
                writer.Write(key);
                writer.Write(lowered.Count);
                foreach ((string expression, string name) in lowered.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    writer.Write(expression);
                    writer.Write(name);
                }

                writer.Write(cubin.Length);
                writer.Write(cubin);
            }

            byte[] body = stream.ToArray();
            using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
            {
                file.Write(body);
                file.Write(SHA256.HashData(body));
                file.Flush(flushToDisk: true);
            }

            // rename(2) replaces the destination atomically: a reader sees the old entry or the new one, never half.
            File.Move(temporary, path, overwrite: true);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try
            {
                File.Delete(temporary);
            }
            catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException)
            {
                // The temporary file is harmless; a later write replaces the entry.
            }

            return false;
        }
    }
}
