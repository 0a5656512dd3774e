namespace T5Gemma2.Rag.Encoder.Onnx.Graph;

/// <summary>A node attribute (AttributeProto): one of int, float, string, ints or floats.</summary>
public sealed class OnnxAttribute
{
    private OnnxAttribute(string name, Action<ProtoMessage> write)
    {
        this.Name = name;
        this.Write = write;
    }

    public string Name { get; }

    internal Action<ProtoMessage> Write { get; }

    public static OnnxAttribute Int(string name, long value) => new(name, m => m.Varint(3, value).Varint(20, 2));

    public static OnnxAttribute Float(string name, float value) => new(name, m => m.Float(2, value).Varint(20, 1));

    public static OnnxAttribute String(string name, string value) => new(name, m => m.String(4, value).Varint(20, 3));

    public static OnnxAttribute Ints(string name, params long[] values) => new(name, m =>
    {
        foreach (long value in values)
        {
            m.Varint(8, value);
        }

        m.Varint(20, 7);
    });

    public static OnnxAttribute Floats(string name, params float[] values) => new(name, m =>
    {
        foreach (float value in values)
        {
            m.Float(7, value);
        }

        m.Varint(20, 6);
    });

    internal ProtoMessage ToProto()
    {
        var message = new ProtoMessage().String(1, this.Name);
        this.Write(message);
        return message;
    }
}
