using ShadowKV.Runtime.Engine.Checkpoints;
using ShadowKV.Runtime.Engine.Tokenization;

namespace ShadowKV.Cli.Commands;

/// <summary>Turns the errors a user can cause (paths, files, prompts, options) into a message and exit code 1.</summary>
internal static class CliErrors
{
    public static int Run(TextWriter error, Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (e is CheckpointException or ModelConfigException or TokenizerException or ArgumentException
            or NotSupportedException or IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }
}
