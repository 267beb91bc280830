namespace ShadowKV.Compiler.Tests.Support;

/// <summary>Files of this repository (the model sources the generator tests compile).</summary>
public static class RepositoryFiles
{
    public static string Root { get; } = FindRoot();

    public static string Read(string relative) => File.ReadAllText(Path.Combine(Root, relative)).Replace("\r\n", "\n");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ShadowKV.Compiler.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException($"No ShadowKV.Compiler.sln above {AppContext.BaseDirectory}.");
    }
}
