using System;
using System.IO;

namespace ShadowKV.Runtime.Tests.Support;

/// <summary>
/// Locates the read-only test data: <c>$SKV_SHARED_DIR</c> first, then a <c>shared/</c> folder next to the test binary
/// (the packed GPU suite carries one), else <c>../shared</c> beside the repository. Tests that need a file call
/// <see cref="RequireFile"/> / <see cref="RequireDirectory"/>, which skip with the path they looked for when it is
/// absent. The GPU test project compiles this same file.
/// </summary>
public static class SharedData
{
    public const string EnvironmentVariable = "SKV_SHARED_DIR";

    public static string? Root { get; } = FindRoot();

    public static string RequireDirectory(string relative)
    {
        string? path = Root is null ? null : Path.Combine(Root, relative);
        if (path is null || !Directory.Exists(path))
        {
            Assert.Skip($"Test data '{relative}' not found (looked in {Root ?? "no shared folder"}; set {EnvironmentVariable}).");
        }

        return path!;
    }

    public static string RequireFile(string relative)
    {
        string? path = Root is null ? null : Path.Combine(Root, relative);
        if (path is null || !File.Exists(path))
        {
            Assert.Skip($"Test data '{relative}' not found (looked in {Root ?? "no shared folder"}; set {EnvironmentVariable}).");
        }

        return path!;
    }

    private static string? FindRoot()
    {
        string? configured = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrEmpty(configured))
        {
            return Directory.Exists(configured) ? Path.GetFullPath(configured) : null;
        }

        // A published suite carries shared/ next to the binary.
        string beside = Path.Combine(AppContext.BaseDirectory, "shared");
        if (Directory.Exists(beside))
        {
            return beside;
        }

        // Walk up from the test binary to the repository root (the folder with the .sln); shared/ is its sibling.
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ShadowKV.Compiler.sln")))
            {
                string candidate = Path.Combine(dir.FullName, "..", "shared");
                return Directory.Exists(candidate) ? Path.GetFullPath(candidate) : null;
            }
        }

        return null;
    }
}
