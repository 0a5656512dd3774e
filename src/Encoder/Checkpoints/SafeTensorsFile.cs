using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace T5Gemma2.Rag.Encoder.Checkpoints;

/// <summary>
/// A safetensors file, memory-mapped: an 8-byte little-endian header length, a JSON header of name → dtype, shape,
/// data_offsets, then the data. The header is checked against the file's size so a truncated download is reported
/// by tensor name rather than read as garbage.
/// </summary>
public sealed unsafe class SafeTensorsFile : IDisposable
{
    private const long MaxHeaderBytes = 100 * 1024 * 1024;

    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _data;
    private bool _disposed;

    private SafeTensorsFile(string path, MemoryMappedFile map, MemoryMappedViewAccessor view, long dataStart, Dictionary<string, SafeTensorInfo> tensors)
    {
        this.FilePath = path;
        this._map = map;
        this._view = view;
        byte* pointer = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        this._data = pointer + view.PointerOffset + dataStart;
        this.Tensors = tensors;
    }

    public string FilePath { get; }

    public IReadOnlyDictionary<string, SafeTensorInfo> Tensors { get; }

    /// <exception cref="ModelFileException">The file is missing, its header is not valid, or a tensor lies beyond its end.</exception>
    public static SafeTensorsFile Open(string path)
    {
        long length;
        byte[] header;
        try
        {
            using var stream = File.OpenRead(path);
            length = stream.Length;
            Span<byte> prefix = stackalloc byte[8];
            if (stream.ReadAtLeast(prefix, 8, throwOnEndOfStream: false) < 8)
            {
                throw new ModelFileException(path, $"is {length} bytes; expected a safetensors file (8-byte header length, JSON header, data).");
            }

            long headerLength = BinaryPrimitives.ReadInt64LittleEndian(prefix);
            if (headerLength <= 0 || headerLength > MaxHeaderBytes || headerLength > length - 8)
            {
                throw new ModelFileException(path, $"announces a {headerLength}-byte header in a {length}-byte file; expected a safetensors file (truncated or not safetensors).");
            }

            header = new byte[headerLength];
            stream.ReadExactly(header);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ModelFileException(path, $"cannot be read ({ex.Message}).", ex);
        }

        long dataStart = 8 + header.Length;
        var tensors = ParseHeader(path, header, length - dataStart);
        var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        var view = map.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
        return new SafeTensorsFile(path, map, view, dataStart, tensors);
    }

    /// <summary>Reads a tensor as float32, converting from bf16 or f16.</summary>
    public void ReadFloat32(SafeTensorInfo tensor, Span<float> destination)
    {
        ObjectDisposedException.ThrowIf(this._disposed, this);
        long count = tensor.ElementCount;
        if (destination.Length != count)
        {
            throw new ArgumentException($"tensor '{tensor.Name}' has {count} elements; the destination holds {destination.Length}.", nameof(destination));
        }

        byte* source = this._data + tensor.Begin;
        switch (tensor.DataType)
        {
            case "F32":
                new ReadOnlySpan<float>(source, (int)count).CopyTo(destination);
                break;
            case "BF16":
                var bf16 = new ReadOnlySpan<ushort>(source, (int)count);
                for (int i = 0; i < bf16.Length; i++)
                {
                    destination[i] = BitConverter.Int32BitsToSingle(bf16[i] << 16);
                }

                break;
            case "F16":
                var f16 = new ReadOnlySpan<Half>(source, (int)count);
                for (int i = 0; i < f16.Length; i++)
                {
                    destination[i] = (float)f16[i];
                }

                break;
            default:
                throw new ModelFileException(this.FilePath, $"tensor '{tensor.Name}' is {tensor.DataType}; expected BF16, F16 or F32.");
        }
    }

    public void Dispose()
    {
        if (this._disposed)
        {
            return;
        }

        this._disposed = true;
        this._view.SafeMemoryMappedViewHandle.ReleasePointer();
        this._view.Dispose();
        this._map.Dispose();
    }

    private static Dictionary<string, SafeTensorInfo> ParseHeader(string path, byte[] header, long dataLength)
    {
        var tensors = new Dictionary<string, SafeTensorInfo>(StringComparer.Ordinal);
        try
        {
            using var document = JsonDocument.Parse(header);
            foreach (var entry in document.RootElement.EnumerateObject())
            {
                if (entry.Name == "__metadata__")
                {
                    continue;
                }

                string dtype = entry.Value.GetProperty("dtype").GetString() ?? "";
                long[] shape = [.. entry.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64())];
                long[] offsets = [.. entry.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64())];
                var info = new SafeTensorInfo(entry.Name, dtype, shape, offsets[0], offsets[1], path);
                int size = SafeTensorInfo.ElementSize(dtype);
                if (size == 0)
                {
                    throw new ModelFileException(path, $"tensor '{entry.Name}' has dtype {dtype}; expected BF16, F16, F32, F64, I32 or I64.");
                }

                if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] - offsets[0] != info.ElementCount * size)
                {
                    throw new ModelFileException(path, $"tensor '{entry.Name}' has data_offsets [{string.Join(", ", offsets)}] for shape {info.ShapeText} of {dtype}; expected {info.ElementCount * size} bytes.");
                }

                if (offsets[1] > dataLength)
                {
                    throw new ModelFileException(path, $"tensor '{entry.Name}' ends at byte {offsets[1]} of the data but the file holds {dataLength}; the file is truncated.");
                }

                tensors[entry.Name] = info;
            }
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or IndexOutOfRangeException or FormatException)
        {
            throw new ModelFileException(path, $"has an unreadable header ({ex.Message.Split('\n')[0]}); expected safetensors JSON (dtype, shape, data_offsets per tensor).", ex);
        }

        return tensors;
    }
}
