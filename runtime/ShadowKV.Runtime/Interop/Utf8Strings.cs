using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;

namespace ShadowKV.Runtime.Interop;

/// <summary>
/// NUL-terminated UTF-8 copies of strings in native memory, for C APIs that take <c>const char*</c> or
/// <c>const char* const*</c>. Freed on dispose.
/// </summary>
internal sealed unsafe class Utf8Strings : IDisposable
{
    private readonly nint[] strings;
    private byte** array;

    public Utf8Strings(IReadOnlyList<string> values)
    {
        strings = new nint[values.Count];
        array = (byte**)NativeMemory.Alloc((nuint)Math.Max(1, values.Count), (nuint)sizeof(byte*));
        for (int i = 0; i < values.Count; i++)
        {
            strings[i] = Marshal.StringToCoTaskMemUTF8(values[i]);
            array[i] = (byte*)strings[i];
        }
    }

    public int Count => strings.Length;

    /// <summary>The <c>const char* const*</c> view.</summary>
    public byte** Array => array;

    public byte* this[int index] => (byte*)strings[index];

    public void Dispose()
    {
        foreach (nint s in strings)
        {
            Marshal.FreeCoTaskMem(s);
        }

        System.Array.Clear(strings);
        NativeMemory.Free(array);
        array = null;
    }
}
