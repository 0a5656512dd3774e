using System.Text;

namespace T5Gemma2.Rag.Encoder.Onnx.Graph;

/// <summary>
/// A protocol-buffers message built field by field, whose large byte fields are written straight from their source
/// when the message is saved. Sizes are computed before writing, so a model of a gigabyte is streamed to disk without
/// ever being copied into one buffer.
/// </summary>
internal sealed class ProtoMessage
{
    private readonly List<Field> _fields = [];

    public ProtoMessage Varint(int number, long value)
    {
        this._fields.Add(new Field(number, WireType.Varint, value, null, null, null));
        return this;
    }

    public ProtoMessage Float(int number, float value)
    {
        this._fields.Add(new Field(number, WireType.Fixed32, BitConverter.SingleToInt32Bits(value), null, null, null));
        return this;
    }

    public ProtoMessage String(int number, string value) => this.Bytes(number, Encoding.UTF8.GetBytes(value));

    public ProtoMessage Bytes(int number, byte[] value)
    {
        this._fields.Add(new Field(number, WireType.LengthDelimited, 0, value, null, null));
        return this;
    }

    public ProtoMessage Message(int number, ProtoMessage value)
    {
        this._fields.Add(new Field(number, WireType.LengthDelimited, 0, null, value, null));
        return this;
    }

    /// <summary>A byte field whose content is produced when the message is written (tensor data).</summary>
    public ProtoMessage Blob(int number, long length, Action<Stream> write)
    {
        this._fields.Add(new Field(number, WireType.LengthDelimited, 0, null, null, new BlobSource(length, write)));
        return this;
    }

    /// <summary>The encoded size in bytes.</summary>
    public long Size
    {
        get
        {
            long size = 0;
            foreach (var entry in this._fields)
            {
                size += VarintSize(((ulong)entry.Number << 3) | (ulong)entry.Wire);
                size += entry.Wire switch
                {
                    WireType.Varint => VarintSize((ulong)entry.Value),
                    WireType.Fixed32 => 4,
                    _ => LengthDelimitedSize(entry),
                };
            }

            return size;
        }
    }

    public void WriteTo(Stream stream)
    {
        Span<byte> fixed32 = stackalloc byte[4];
        foreach (var field in this._fields)
        {
            WriteVarint(stream, ((ulong)field.Number << 3) | (ulong)field.Wire);
            switch (field.Wire)
            {
                case WireType.Varint:
                    WriteVarint(stream, (ulong)field.Value);
                    break;
                case WireType.Fixed32:
                    BitConverter.TryWriteBytes(fixed32, (int)field.Value);
                    stream.Write(fixed32);
                    break;
                default:
                    if (field.Bytes is { } data)
                    {
                        WriteVarint(stream, (ulong)data.Length);
                        stream.Write(data);
                    }
                    else if (field.Child is { } child)
                    {
                        WriteVarint(stream, (ulong)child.Size);
                        child.WriteTo(stream);
                    }
                    else
                    {
                        var blob = field.Blob!;
                        WriteVarint(stream, (ulong)blob.Length);
                        long start = stream.CanSeek ? stream.Position : -1;
                        blob.Write(stream);
                        if (start >= 0 && stream.Position - start != blob.Length)
                        {
                            throw new InvalidOperationException($"field {field.Number}: wrote {stream.Position - start} bytes, announced {blob.Length}.");
                        }
                    }

                    break;
            }
        }
    }

    private static long LengthDelimitedSize(Field field)
    {
        long length = field.Bytes?.Length ?? field.Child?.Size ?? field.Blob!.Length;
        return VarintSize((ulong)length) + length;
    }

    private static int VarintSize(ulong value)
    {
        int size = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            size++;
        }

        return size;
    }

    private static void WriteVarint(Stream stream, ulong value)
    {
        while (value >= 0x80)
        {
            stream.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }

        stream.WriteByte((byte)value);
    }

    private enum WireType
    {
        Varint = 0,
        LengthDelimited = 2,
        Fixed32 = 5,
    }

    private sealed record BlobSource(long Length, Action<Stream> Write);

    private sealed record Field(int Number, WireType Wire, long Value, byte[]? Bytes, ProtoMessage? Child, BlobSource? Blob);
}
