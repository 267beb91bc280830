using System.IO;
using System.Text.RegularExpressions;

namespace ShadowKV.Compiler.Emit;

/// <summary>
/// The kernel templates (<c>Emit/Cuda/*.cuh</c>), embedded in this assembly under <c>ShadowKV.Cuda.&lt;file&gt;</c>
/// (the generator embeds the same files under the same names).
/// </summary>
public static class CudaTemplates
{
    private static readonly Regex KernelToken = new(@"\bSKV_KERNEL\b", RegexOptions.CultureInvariant);

    public static string Read(string file)
    {
        using Stream? stream = typeof(CudaTemplates).Assembly.GetManifestResourceStream("ShadowKV.Cuda." + file);
        if (stream is null)
        {
            throw new FileNotFoundException($"CUDA template '{file}' is not embedded (expected resource ShadowKV.Cuda.{file}).");
        }

        using var reader = new StreamReader(stream);
        return reader.ReadToEnd().Replace("\r\n", "\n");
    }

    /// <summary>The template with its kernel renamed to the model's stable name.</summary>
    public static string Instantiate(string file, string kernelName) => KernelToken.Replace(Read(file), kernelName);
}
