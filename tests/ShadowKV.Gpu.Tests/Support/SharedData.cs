using System;
using System.IO;

namespace ShadowKV.Gpu.Tests.Support;

/// <summary>
/// Locates the read-only test data: <c>$SKV_SHARED_DIR</c> first (the packed suite on the GPU host sets it to the
/// archive's <c>shared/</c>), else <c>../shared</c> beside the repository. Missing data skips with the path looked at.
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
