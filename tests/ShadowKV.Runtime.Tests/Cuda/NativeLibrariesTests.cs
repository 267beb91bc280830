using System;
using ShadowKV.Runtime.Cuda;
using ShadowKV.Runtime.Interop;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace ShadowKV.Runtime.Tests.Cuda;

public sealed class NativeLibrariesTests
{
    [Fact]
    public void A_missing_library_lists_every_name_tried_and_suggests_LD_LIBRARY_PATH()
    {
        var error = Assert.Throws<NativeLibraryNotFoundException>(() =>
            NativeLibraries.LoadFirstOrThrow("the test library", ["libskv-missing.so.13", "libskv-missing.so.12"]));

        Assert.Contains("the test library", error.Message, StringComparison.Ordinal);
        Assert.Contains("libskv-missing.so.13", error.Message, StringComparison.Ordinal);
        Assert.Contains("libskv-missing.so.12", error.Message, StringComparison.Ordinal);
        Assert.Contains("LD_LIBRARY_PATH", error.Message, StringComparison.Ordinal);
        Assert.Equal(["libskv-missing.so.13", "libskv-missing.so.12"], error.TriedNames);
        Assert.IsAssignableFrom<DllNotFoundException>(error);
    }

    [Fact]
    public void Candidates_are_tried_newest_first()
    {
        Assert.Equal(["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2"], NativeLibraries.CandidatesFor(NativeLibraries.Nvrtc));
        Assert.Equal("libcuda.so.1", NativeLibraries.CandidatesFor(NativeLibraries.CudaDriver).Single());
        Assert.Equal("libcublasLt.so.13", NativeLibraries.CandidatesFor(NativeLibraries.CublasLt)[0]);
    }

    [Fact]
    public void Without_a_driver_the_first_driver_call_names_libcuda()
    {
        if (NativeLibraries.TryLoad(NativeLibraries.CudaDriver, out _))
        {
            Assert.Skip("libcuda.so.1 is present on this machine; the missing-driver path is not reachable.");
        }

        // Goes through [LibraryImport] → the assembly's resolver → the exception, as the engine would see it.
        var error = Assert.Throws<NativeLibraryNotFoundException>(() => CudaDevice.Open());

        Assert.Contains("libcuda.so.1", error.Message, StringComparison.Ordinal);
    }
}
