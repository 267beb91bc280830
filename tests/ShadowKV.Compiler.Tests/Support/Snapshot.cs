using System.Runtime.CompilerServices;

namespace ShadowKV.Compiler.Tests.Support;

/// <summary>
/// Golden-file checks. <c>Snapshot.Verify("Llama.prefill.full", text, "cu")</c> compares <paramref name="actual"/>
/// with <c>Snapshots/Llama.prefill.full.verified.cu</c> beside the calling test file. On a mismatch it writes
/// <c>*.received.*</c> next to it and fails with the first differing line; with <c>SKV_ACCEPT_SNAPSHOTS=1</c> it
/// overwrites the verified file instead (review the diff before committing).
/// </summary>
public static class Snapshot
{
    public const string AcceptVariable = "SKV_ACCEPT_SNAPSHOTS";

    public static void Verify(string name, string actual, string extension, [CallerFilePath] string testFile = "")
    {
        string folder = Path.Combine(Path.GetDirectoryName(testFile)!, "Snapshots");
        string verified = Path.Combine(folder, $"{name}.verified.{extension}");
        string received = Path.Combine(folder, $"{name}.received.{extension}");
        string normalized = actual.Replace("\r\n", "\n");
        if (Environment.GetEnvironmentVariable(AcceptVariable) == "1")
        {
            Directory.CreateDirectory(folder);
            File.WriteAllText(verified, normalized);
            File.Delete(received);
            return;
        }

        string? expected = File.Exists(verified) ? File.ReadAllText(verified).Replace("\r\n", "\n") : null;
        if (expected == normalized)
        {
            File.Delete(received);
            return;
        }

        Directory.CreateDirectory(folder);
        File.WriteAllText(received, normalized);
        Assert.Fail(expected is null
            ? $"No snapshot {verified}; wrote {received}. Review it and rerun with {AcceptVariable}=1 to accept."
            : $"Snapshot {verified} differs ({FirstDifference(expected, normalized)}); wrote {received}. Rerun with {AcceptVariable}=1 to accept.");
    }

    private static string FirstDifference(string expected, string actual)
    {
        string[] a = expected.Split('\n'), b = actual.Split('\n');
        for (int i = 0; i < Math.Max(a.Length, b.Length); i++)
        {
            string left = i < a.Length ? a[i] : "<end>", right = i < b.Length ? b[i] : "<end>";
            if (left != right)
            {
                return $"line {i + 1}: expected '{left}', got '{right}'";
            }
        }

        return "same lines, different endings";
    }
}
