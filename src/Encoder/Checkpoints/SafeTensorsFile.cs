using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;

namespace T5Gemma2.Rag.Encoder.Checkpoints;

/// <summary>
/// A safetensors file: an 8-byte little-endian header length, a JSON header of name → dtype, shape, data_offsets, then
/// the data. The header is checked against the file's size so a truncated download is reported by tensor name rather
/// than read as garbage. Tensors are read with positional reads (no memory map), so converting a checkpoint larger
/// than memory keeps only the tensor at hand resident.
/// </summary>
public sealed class SafeTensorsFile : IDisposable
{
    private const long MaxHeaderBytes = 100 * 1024 * 1024;

    private readonly SafeFileHandle _handle;
    private readonly long _dataStart;

    private SafeTensorsFile(string path, SafeFileHandle handle, long dataStart, Dictionary<string, SafeTensorInfo> tensors)
    {
        this.FilePath = path;
        this._handle = handle;
        this._dataStart = dataStart;
        this.Tensors = tensors;
    }

    public string FilePath { get; }

    public IReadOnlyDictionary<string, SafeTensorInfo> Tensors { get; }

    /// <exception cref="ModelFileException">The file is missing, its header is not valid, or a tensor lies beyond its end.</exception>
    public static SafeTensorsFile Open(string path)
    {
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ModelFileException(path, $"cannot be read ({ex.Message}).", ex);
        }

        try
        {
            long length = RandomAccess.GetLength(handle);
            Span<byte> prefix = stackalloc byte[8];
            if (length < 8 || RandomAccess.Read(handle, prefix, 0) < 8)
            {
                throw new ModelFileException(path, $"is {length} bytes; expected a safetensors file (8-byte header length, JSON header, data).");
            }

            long headerLength = BinaryPrimitives.ReadInt64LittleEndian(prefix);
            if (headerLength <= 0 || headerLength > MaxHeaderBytes || headerLength > length - 8)
            {
                throw new ModelFileException(path, $"announces a {headerLength}-byte header in a {length}-byte file; expected a safetensors file (truncated or not safetensors).");
            }

            var header = new byte[headerLength];
            RandomAccess.Read(handle, header, 8);
            long dataStart = 8 + headerLength;
            return new SafeTensorsFile(path, handle, dataStart, ParseHeader(path, header, length - dataStart));
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Reads a tensor as float32, converting from bf16 or f16.</summary>
    public void ReadFloat32(SafeTensorInfo tensor, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        ObjectDisposedException.ThrowIf(this._handle.IsClosed, this);
        long count = tensor.ElementCount;
        if (destination.Length != count)
        {
            throw new ArgumentException($"tensor '{tensor.Name}' has {count} elements; the destination holds {destination.Length}.", nameof(destination));
        }

        int size = SafeTensorInfo.ElementSize(tensor.DataType);
        if (tensor.DataType is not ("F32" or "BF16" or "F16"))
        {
            throw new ModelFileException(this.FilePath, $"tensor '{tensor.Name}' is {tensor.DataType}; expected BF16, F16 or F32.");
        }

        if (tensor.DataType == "F32")
        {
            this.ReadExactly(MemoryMarshal.AsBytes(destination), tensor.Begin, tensor.Name);
            return;
        }

        // Half-width values go through a buffer, a slice at a time.
        var buffer = new byte[1 << 22];
        long offset = tensor.Begin;
        for (int done = 0; done < destination.Length;)
        {
            int take = Math.Min(buffer.Length / size, destination.Length - done);
            var bytes = buffer.AsSpan(0, take * size);
            this.ReadExactly(bytes, offset, tensor.Name);
            var target = destination.Slice(done, take);
            if (tensor.DataType == "BF16")
            {
                var bf16 = MemoryMarshal.Cast<byte, ushort>(bytes);
                for (int i = 0; i < take; i++)
                {
                    target[i] = BitConverter.Int32BitsToSingle(bf16[i] << 16);
                }
            }
            else
            {
                var f16 = MemoryMarshal.Cast<byte, Half>(bytes);
                for (int i = 0; i < take; i++)
                {
                    target[i] = (float)f16[i];
                }
            }

            offset += bytes.Length;
            done += take;
        }
    }

    public void Dispose() => this._handle.Dispose();

    private void ReadExactly(Span<byte> destination, long dataOffset, string tensor)
    {
        const int Slice = 1 << 30;
        long position = this._dataStart + dataOffset;
        while (!destination.IsEmpty)
        {
            int read = RandomAccess.Read(this._handle, destination[..Math.Min(Slice, destination.Length)], position);
            if (read == 0)
            {
                throw new ModelFileException(this.FilePath, $"ended while reading tensor '{tensor}'; the file is truncated.");
            }

            destination = destination[read..];
            position += read;
        }
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
                int size = SafeTensorInfo.ElementSize(dtype);
                if (size == 0)
                {
                    throw new ModelFileException(path, $"tensor '{entry.Name}' has dtype {dtype}; expected BF16, F16, F32, F64, I32 or I64.");
                }

                if (shape.Any(d => d < 0))
                {
                    throw new ModelFileException(path, $"tensor '{entry.Name}' has shape [{string.Join(", ", shape)}]; expected non-negative dimensions.");
                }

                var info = new SafeTensorInfo(entry.Name, dtype, shape, offsets.Length == 2 ? offsets[0] : -1, offsets.Length == 2 ? offsets[1] : -1, path);
                if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] - offsets[0] != checked(info.ElementCount * size))
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
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or IndexOutOfRangeException or FormatException or OverflowException)
        {
            throw new ModelFileException(path, $"has an unreadable header ({ex.Message.Split('\n')[0]}); expected safetensors JSON (dtype, shape, data_offsets per tensor).", ex);
        }

        return tensors;
    }
}
