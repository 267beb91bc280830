using System;
using ShadowKV.Runtime.Cuda;
using ShadowKV.Runtime.Interop;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace ShadowKV.Runtime.Tests.Cuda;

public sealed class NvrtcCompilerTests
{
    private static readonly byte[] ElfMagic = [0x7F, (byte)'E', (byte)'L', (byte)'F'];

    [Fact]
    public void Loads_an_nvrtc_of_version_11_2_or_later()
    {
        NvrtcRequirement.Require();

        (int major, int minor) = NvrtcCompiler.Version;

        Assert.True(major > 11 || (major == 11 && minor >= 2), $"NVRTC {major}.{minor}");
        Assert.NotNull(NativeLibraries.LoadedFileName(NativeLibraries.Nvrtc));
    }

    [Fact]
    public void Supported_architectures_include_ampere_and_hopper()
    {
        NvrtcRequirement.Require();

        IReadOnlyList<string> archs = NvrtcCompiler.SupportedArchs();

        Assert.Contains("sm_80", archs);
        Assert.Contains("sm_90", archs);
    }

    [Theory]
    [InlineData("sm_80")]
    [InlineData("sm_90")]
    public void Compiles_a_self_contained_kernel_to_a_cubin(string arch)
    {
        NvrtcRequirement.Require();

        NvrtcOutput output = NvrtcCompiler.Compile(
            "test_kernels.cu", TestKernels.Source, ["-std=c++17", $"--gpu-architecture={arch}"], [TestKernels.PlainName]);

        Assert.Equal(ElfMagic, output.Image.Take(4));
        Assert.Equal(TestKernels.PlainName, output.LoweredNames[TestKernels.PlainName]); // extern "C": not mangled
    }

    [Fact]
    public void Returns_the_lowered_name_of_a_template_instantiation()
    {
        NvrtcRequirement.Require();

        NvrtcOutput output = NvrtcCompiler.Compile(
            "test_kernels.cu", TestKernels.Source, ["-std=c++17", "--gpu-architecture=sm_80"], [TestKernels.TemplateName]);

        // Itanium mangling of head_sum<128, 4>: _Z8head_sumILi128ELi4EEvPK4bf16Pf
        string lowered = output.LoweredNames[TestKernels.TemplateName];
        Assert.StartsWith("_Z8head_sumILi128ELi4EE", lowered, StringComparison.Ordinal);
    }

    [Fact]
    public void Compiles_to_ptx_for_a_virtual_architecture()
    {
        NvrtcRequirement.Require();

        NvrtcOutput output = NvrtcCompiler.CompileToPtx(
            "test_kernels.cu", TestKernels.Source, ["-std=c++17", "--gpu-architecture=compute_80"], [TestKernels.PlainName]);

        string ptx = System.Text.Encoding.UTF8.GetString(output.Image);
        Assert.Contains(".visible .entry bf16_axpy", ptx, StringComparison.Ordinal);
    }

    [Fact]
    public void A_syntax_error_throws_with_the_log_the_source_name_and_the_options()
    {
        NvrtcRequirement.Require();

        var error = Assert.Throws<NvrtcException>(() => NvrtcCompiler.Compile(
            "broken.cu", TestKernels.Broken, ["-std=c++17", "--gpu-architecture=sm_80"], ["broken"]));

        Assert.Equal(NvrtcResult.Compilation, error.Result);
        Assert.Equal("broken.cu", error.SourceName);
        Assert.Contains("broken.cu(4)", error.Log, StringComparison.Ordinal); // NVRTC reports the line after the missing ';'
        Assert.Contains("error", error.Log, StringComparison.Ordinal);
        Assert.Contains("broken.cu", error.Message, StringComparison.Ordinal);
        Assert.Contains(error.Log, error.Message, StringComparison.Ordinal);
        Assert.Contains("--gpu-architecture=sm_80", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_option_is_reported_as_such()
    {
        NvrtcRequirement.Require();

        var error = Assert.Throws<NvrtcException>(() => NvrtcCompiler.Compile(
            "test_kernels.cu", TestKernels.Source, ["--no-such-option", "--gpu-architecture=sm_80"], [TestKernels.PlainName]));

        Assert.Equal(NvrtcResult.InvalidOption, error.Result);
    }
}
