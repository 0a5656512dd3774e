using System.Text;

namespace T5Gemma2.Rag.Tests.Infrastructure;

/// <summary>
/// Writes small ONNX models by hand (the protobuf wire format of onnx.proto: ModelProto, GraphProto, NodeProto,
/// ValueInfoProto, TensorProto), so tests can give ONNX Runtime graphs of any interface without a converter.
/// </summary>
internal static class TinyOnnxGraph
{
    public const int Float = 1, Int64 = 7;

    /// <summary>A tensor interface: name, element type and dims (a string for a symbolic dim, an int for a fixed one).</summary>
    public sealed record Port(string Name, int ElementType, params object[] Dims);

    /// <summary>One node: op type, inputs, outputs, and int attributes.</summary>
    public sealed record Node(string OpType, string[] Inputs, string[] Outputs, params (string Name, long Value)[] IntAttributes);

    /// <summary>A float initializer.</summary>
    public sealed record Initializer(string Name, long[] Dims, float[] Values);

    public static byte[] Model(IEnumerable<Port> inputs, IEnumerable<Port> outputs, IEnumerable<Node> nodes, IEnumerable<Initializer>? initializers = null)
    {
        var graph = new Writer();
        foreach (var node in nodes)
        {
            graph.Message(1, WriteNode(node));
        }

        graph.String(2, "tiny");
        foreach (var initializer in initializers ?? [])
        {
            graph.Message(5, WriteTensor(initializer));
        }

        foreach (var input in inputs)
        {
            graph.Message(11, WriteValueInfo(input));
        }

        foreach (var output in outputs)
        {
            graph.Message(12, WriteValueInfo(output));
        }

        var opset = new Writer();
        opset.String(1, "");
        opset.Varint(2, 17);

        var model = new Writer();
        model.Varint(1, 8); // ir_version
        model.String(2, "t5rag-tests");
        model.Message(7, graph);
        model.Message(8, opset);
        return model.ToArray();
    }

    private static Writer WriteNode(Node node)
    {
        var writer = new Writer();
        foreach (string input in node.Inputs)
        {
            writer.String(1, input);
        }

        foreach (string output in node.Outputs)
        {
            writer.String(2, output);
        }

        writer.String(4, node.OpType);
        foreach (var (name, value) in node.IntAttributes)
        {
            var attribute = new Writer();
            attribute.String(1, name);
            attribute.Varint(3, value); // i
            attribute.Varint(20, 2);    // type INT
            writer.Message(5, attribute);
        }

        return writer;
    }

    private static Writer WriteValueInfo(Port port)
    {
        var shape = new Writer();
        foreach (object dim in port.Dims)
        {
            var dimension = new Writer();
            if (dim is string symbol)
            {
                dimension.String(2, symbol);
            }
            else
            {
                dimension.Varint(1, Convert.ToInt64(dim, System.Globalization.CultureInfo.InvariantCulture));
            }

            shape.Message(1, dimension);
        }

        var tensorType = new Writer();
        tensorType.Varint(1, port.ElementType);
        tensorType.Message(2, shape);
        var type = new Writer();
        type.Message(1, tensorType);
        var info = new Writer();
        info.String(1, port.Name);
        info.Message(2, type);
        return info;
    }

    private static Writer WriteTensor(Initializer initializer)
    {
        var tensor = new Writer();
        foreach (long dim in initializer.Dims)
        {
            tensor.Varint(1, dim);
        }

        tensor.Varint(2, Float);
        tensor.String(8, initializer.Name);
        var raw = new byte[initializer.Values.Length * 4];
        Buffer.BlockCopy(initializer.Values, 0, raw, 0, raw.Length);
        tensor.Bytes(9, raw);
        return tensor;
    }

    private sealed class Writer
    {
        private readonly MemoryStream _buffer = new();

        public void Varint(int field, long value)
        {
            this.Tag(field, 0);
            this.Raw((ulong)value);
        }

        public void String(int field, string value) => this.Bytes(field, Encoding.UTF8.GetBytes(value));

        public void Message(int field, Writer message) => this.Bytes(field, message.ToArray());

        public void Bytes(int field, byte[] value)
        {
            this.Tag(field, 2);
            this.Raw((ulong)value.Length);
            this._buffer.Write(value);
        }

        public byte[] ToArray() => this._buffer.ToArray();

        private void Tag(int field, int wireType) => this.Raw((ulong)((field << 3) | wireType));

        private void Raw(ulong value)
        {
            while (value >= 0x80)
            {
                this._buffer.WriteByte((byte)(value | 0x80));
                value >>= 7;
            }

            this._buffer.WriteByte((byte)value);
        }
    }
}
