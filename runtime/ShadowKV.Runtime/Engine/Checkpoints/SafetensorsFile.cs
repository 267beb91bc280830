using System;
using System.Collections.Generic;
using System.IO;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;

namespace ShadowKV.Runtime.Engine.Checkpoints;

/// <summary>
/// One memory-mapped <c>.safetensors</c> file with a validated header. Tensor bytes are read straight from the
/// mapping; nothing is copied until a tensor is converted. Dispose to unmap.
/// </summary>
/// <remarks>
/// The same type also holds tensors laid out in native memory (<see cref="FromNativeMemory"/>): the built-in random
/// model is such a "file", so it takes exactly the binding and upload path of a downloaded checkpoint.
/// </remarks>
public sealed unsafe class SafetensorsFile : IDisposable
{
    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private readonly byte* _base;
    private byte* _native; // owned block of an in-memory file; null once freed (and for a mapped file)
    private readonly Dictionary<string, CheckpointTensor> _tensors = new(StringComparer.Ordinal);

    private SafetensorsFile(string path, long length, IReadOnlyList<SafetensorsEntry> entries)
    {
        Path = path;
        Length = length;
        _map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        try
        {
            _view = _map.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
            byte* pointer = null;
            _view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            _base = pointer + _view.PointerOffset;
        }
        catch
        {
            _view?.Dispose();
            _map.Dispose();
            throw;
        }

        AddTensors(entries);
    }

    private SafetensorsFile(string label, byte* block, long length, IReadOnlyList<SafetensorsEntry> entries)
    {
        Path = label;
        Length = length;
        _base = block;
        _native = block;
        AddTensors(entries);
    }

    /// <summary>The file's full path.</summary>
    public string Path { get; }

    /// <summary>File size in bytes.</summary>
    public long Length { get; }

    /// <summary>Tensors by name, in no particular order.</summary>
    public IReadOnlyDictionary<string, CheckpointTensor> Tensors => _tensors;

    /// <summary>Opens, validates and maps <paramref name="path"/>; throws <see cref="CheckpointException"/> on any defect.</summary>
    public static SafetensorsFile Open(string path)
    {
        path = System.IO.Path.GetFullPath(path);
        if (!File.Exists(path))
        {
            throw new CheckpointException(path, null, "file not found.");
        }

        IReadOnlyList<SafetensorsEntry> entries;
        long length;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read))
        {
            length = stream.Length;
            Span<byte> prefix = stackalloc byte[SafetensorsHeader.PrefixBytes];
            int read = stream.ReadAtLeast(prefix, prefix.Length, throwOnEndOfStream: false);
            int headerLength = SafetensorsHeader.ReadHeaderLength(prefix[..read], length, path);
            var header = new byte[headerLength];
            stream.ReadExactly(header);
            entries = SafetensorsHeader.Parse(header, length, path);
        }

        return new SafetensorsFile(path, length, entries);
    }

    /// <summary>
    /// Takes ownership of <paramref name="block"/> (from <see cref="NativeMemory.Alloc(nuint)"/>, freed on dispose),
    /// whose bytes hold <paramref name="entries"/> at their offsets; <paramref name="label"/> stands in for the path.
    /// </summary>
    internal static SafetensorsFile FromNativeMemory(string label, byte* block, long length, IReadOnlyList<SafetensorsEntry> entries) =>
        new(label, block, length, entries);

    private void AddTensors(IReadOnlyList<SafetensorsEntry> entries)
    {
        foreach (SafetensorsEntry entry in entries)
        {
            _tensors.Add(entry.Name, new CheckpointTensor(this, entry));
        }
    }

    internal ReadOnlySpan<byte> Slice(long offset, long length)
    {
        bool open = _map is null ? _native is not null : _view is not null && !_view.SafeMemoryMappedViewHandle.IsClosed;
        ObjectDisposedException.ThrowIf(!open, this);
        if (length > int.MaxValue)
        {
            // Span is int-indexed; no supported model has a single tensor over 2 GiB in its checkpoint dtype.
            throw new CheckpointException(Path, null, $"a tensor of {length} bytes exceeds the 2 GiB a span can address.");
        }

        return new ReadOnlySpan<byte>(_base + offset, (int)length);
    }

    /// <summary>Unmaps the file (frees an in-memory one); tensors from it must not be read afterwards.</summary>
    public void Dispose()
    {
        if (_view is not null && !_view.SafeMemoryMappedViewHandle.IsClosed)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
        }

        _map?.Dispose();
        if (_native is not null)
        {
            NativeMemory.Free(_native);
            _native = null;
        }
    }
}
