namespace ShadowKV.Runtime.Tests.Support;

/// <summary>
/// Locates the read-only test data in <c>../shared</c> beside the repository (or where <c>SKV_SHARED_DIR</c> points).
/// Tests that need a file call <see cref="RequireFile"/> / <see cref="RequireDirectory"/>, which skip with the path they
/// looked for when it is absent.
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
