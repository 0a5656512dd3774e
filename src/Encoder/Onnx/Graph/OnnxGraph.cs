namespace T5Gemma2.Rag.Encoder.Onnx.Graph;

/// <summary>
/// Builds an ONNX model: inputs, outputs, initializers and nodes, then writes it as ModelProto. Weights above a size
/// go to an external data file beside the model (<c>&lt;model&gt;.onnx_data</c>, the Optimum / transformers.js layout),
/// which ONNX Runtime needs past protobuf's 2 GB limit.
/// </summary>
public sealed class OnnxGraph
{
    /// <summary>The ONNX IR version written (IR 10 goes with opset 21).</summary>
    public const int IrVersion = 10;

    /// <summary>The default-domain opset the graphs use.</summary>
    public const int Opset = 21;

    /// <summary>ONNX Runtime's contrib-op domain (MatMulNBits, GatherBlockQuantized).</summary>
    public const string MicrosoftDomain = "com.microsoft";

    private readonly List<ProtoMessage> _nodes = [];
    private readonly List<(string Name, OnnxTensor Tensor)> _initializers = [];
    private readonly List<(string Name, OnnxDataType Type, long[] Dims, string Location, long Length)> _references = [];
    private readonly List<ProtoMessage> _inputs = [];
    private readonly List<ProtoMessage> _outputs = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _constants = new(StringComparer.Ordinal);
    private bool _usesMicrosoftDomain;
    private int _counter;

    public OnnxGraph(string name)
    {
        this.Name = name;
    }

    public string Name { get; }

    /// <summary>Metadata written into the model (ModelProto.metadata_props).</summary>
    public Dictionary<string, string> Metadata { get; } = new(StringComparer.Ordinal);

    /// <summary>Total bytes of the initializers.</summary>
    public long InitializerBytes => this._initializers.Sum(i => i.Tensor.ByteLength);

    /// <summary>Declares a graph input. A dim is a string (symbolic, e.g. "batch") or a number (fixed).</summary>
    public string Input(string name, OnnxDataType type, params object[] dims)
    {
        this.Claim(name);
        this._inputs.Add(ValueInfo(name, type, dims));
        return name;
    }

    /// <summary>Declares <paramref name="value"/> as a graph output named <paramref name="name"/>.</summary>
    public void Output(string value, string name, OnnxDataType type, params object[] dims)
    {
        if (value != name)
        {
            this.Claim(name);
            this.AddNode("Identity", [value], [name], []);
        }

        this._outputs.Add(ValueInfo(name, type, dims));
    }

    /// <summary>
    /// An initializer whose data another writer puts in <paramref name="location"/> (beside the model, from offset 0),
    /// so several graphs can share one copy of a tensor: the tied embedding of the encoder and the decoder.
    /// </summary>
    public string ExternalReference(string name, OnnxDataType type, long[] dims, string location, long length)
    {
        this.Claim(name);
        this._references.Add((name, type, dims, location, length));
        return name;
    }

    public string Initializer(string name, OnnxTensor tensor)
    {
        this.Claim(name);
        this._initializers.Add((name, tensor));
        return name;
    }

    /// <summary>An int64 constant, shared by every node that asks for the same values.</summary>
    public string Int64s(params long[] values) => this.SharedConstant("i64_" + string.Join("_", values).Replace('-', 'm'), () => OnnxTensor.FromInt64s(values, values.Length));

    /// <summary>An int64 scalar constant.</summary>
    public string Int64Scalar(long value) => this.SharedConstant("i64s_" + value.ToString(System.Globalization.CultureInfo.InvariantCulture).Replace('-', 'm'), () => OnnxTensor.FromInt64s([value]));

    /// <summary>A float scalar constant.</summary>
    public string FloatScalar(float value) => this.SharedConstant("f32s_" + BitConverter.SingleToInt32Bits(value).ToString("x8", System.Globalization.CultureInfo.InvariantCulture), () => OnnxTensor.FromFloats([value]));

    /// <summary>Adds a node with one output and returns the output's name.</summary>
    public string Op(string opType, string[] inputs, params OnnxAttribute[] attributes) => this.OpIn("", opType, inputs, attributes);

    /// <summary>Adds a node of <paramref name="domain"/> with one output.</summary>
    public string OpIn(string domain, string opType, string[] inputs, params OnnxAttribute[] attributes)
    {
        string output = this.Fresh(opType);
        this.AddNode(opType, inputs, [output], attributes, domain);
        return output;
    }

    /// <summary>Adds a node with several outputs.</summary>
    public string[] OpMulti(string opType, string[] inputs, int outputs, params OnnxAttribute[] attributes) =>
        this.OpMultiIn("", opType, inputs, outputs, attributes);

    /// <summary>Adds a node of <paramref name="domain"/> with several outputs.</summary>
    public string[] OpMultiIn(string domain, string opType, string[] inputs, int outputs, params OnnxAttribute[] attributes)
    {
        string[] names = [.. Enumerable.Range(0, outputs).Select(_ => this.Fresh(opType))];
        this.AddNode(opType, inputs, names, attributes, domain);
        return names;
    }

    /// <summary>
    /// Writes the model to <paramref name="path"/>. When the initializers exceed <paramref name="externalDataThreshold"/>
    /// bytes, every initializer of 1 KiB or more goes to <c>&lt;file&gt;_data</c> beside it.
    /// </summary>
    public void Save(string path, long externalDataThreshold = 1_900_000_000, CancellationToken cancellationToken = default)
    {
        bool external = this.InitializerBytes > externalDataThreshold;
        string dataFileName = Path.GetFileName(path) + "_data";
        var graph = new ProtoMessage();
        foreach (var node in this._nodes)
        {
            graph.Message(1, node);
        }

        graph.String(2, this.Name);
        long offset = 0;
        var externalTensors = new List<OnnxTensor>();
        foreach (var (name, tensor) in this._initializers)
        {
            var proto = new ProtoMessage();
            foreach (long dim in tensor.Dims)
            {
                proto.Varint(1, dim);
            }

            proto.Varint(2, (int)tensor.DataType).String(8, name);
            if (external && tensor.ByteLength >= 1024)
            {
                // Offsets aligned to 4 KiB, as ONNX Runtime prefers for memory-mapping external data.
                offset = (offset + 4095) / 4096 * 4096;
                proto.Message(13, new ProtoMessage().String(1, "location").String(2, dataFileName));
                proto.Message(13, new ProtoMessage().String(1, "offset").String(2, offset.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                proto.Message(13, new ProtoMessage().String(1, "length").String(2, tensor.ByteLength.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                proto.Varint(14, 1);
                externalTensors.Add(tensor);
                offset += tensor.ByteLength;
            }
            else
            {
                proto.Blob(9, tensor.ByteLength, tensor.WriteTo);
            }

            graph.Message(5, proto);
        }

        foreach (var (name, type, dims, location, length) in this._references)
        {
            var proto = new ProtoMessage();
            foreach (long dim in dims)
            {
                proto.Varint(1, dim);
            }

            proto.Varint(2, (int)type).String(8, name)
                .Message(13, new ProtoMessage().String(1, "location").String(2, location))
                .Message(13, new ProtoMessage().String(1, "offset").String(2, "0"))
                .Message(13, new ProtoMessage().String(1, "length").String(2, length.ToString(System.Globalization.CultureInfo.InvariantCulture)))
                .Varint(14, 1);
            graph.Message(5, proto);
        }

        foreach (var input in this._inputs)
        {
            graph.Message(11, input);
        }

        foreach (var output in this._outputs)
        {
            graph.Message(12, output);
        }

        var model = new ProtoMessage()
            .Varint(1, IrVersion)
            .String(2, "t5rag")
            .String(3, typeof(OnnxGraph).Assembly.GetName().Version?.ToString() ?? "0")
            .Message(7, graph)
            .Message(8, new ProtoMessage().String(1, "").Varint(2, Opset));
        if (this._usesMicrosoftDomain)
        {
            model.Message(8, new ProtoMessage().String(1, MicrosoftDomain).Varint(2, 1));
        }

        foreach (var (key, value) in this.Metadata)
        {
            model.Message(14, new ProtoMessage().String(1, key).String(2, value));
        }

        if (external)
        {
            using var data = new FileStream(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, dataFileName), FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
            foreach (var tensor in externalTensors)
            {
                cancellationToken.ThrowIfCancellationRequested();
                long aligned = (data.Position + 4095) / 4096 * 4096;
                data.Write(new byte[aligned - data.Position]);
                tensor.WriteTo(data);

                // The offsets in the graph were computed from the announced lengths: a writer that differs would shift every later tensor.
                if (data.Position - aligned != tensor.ByteLength)
                {
                    throw new InvalidOperationException($"an initializer wrote {data.Position - aligned} bytes of external data, announced {tensor.ByteLength}.");
                }
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        model.WriteTo(stream);
    }

    private void AddNode(string opType, string[] inputs, string[] outputs, OnnxAttribute[] attributes, string domain = "")
    {
        var node = new ProtoMessage();
        foreach (string input in inputs)
        {
            node.String(1, input);
        }

        foreach (string output in outputs)
        {
            node.String(2, output);
        }

        node.String(3, outputs[0] + "_node").String(4, opType);
        foreach (var attribute in attributes)
        {
            node.Message(5, attribute.ToProto());
        }

        if (domain.Length > 0)
        {
            node.String(7, domain);
            this._usesMicrosoftDomain |= domain == MicrosoftDomain;
        }

        this._nodes.Add(node);
    }

    private string SharedConstant(string key, Func<OnnxTensor> create)
    {
        if (!this._constants.TryGetValue(key, out string? name))
        {
            name = this.Initializer("const_" + key, create());
            this._constants[key] = name;
        }

        return name;
    }

    private string Fresh(string hint)
    {
        string name;
        do
        {
            name = $"{hint}_{this._counter++}";
        }
        while (!this._names.Add(name));

        return name;
    }

    private void Claim(string name)
    {
        if (!this._names.Add(name))
        {
            throw new ArgumentException($"the name '{name}' is already used in graph '{this.Name}'.", nameof(name));
        }
    }

    private static ProtoMessage ValueInfo(string name, OnnxDataType type, object[] dims)
    {
        var shape = new ProtoMessage();
        foreach (object dim in dims)
        {
            var dimension = new ProtoMessage();
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

        var tensorType = new ProtoMessage().Varint(1, (int)type).Message(2, shape);
        return new ProtoMessage().String(1, name).Message(2, new ProtoMessage().Message(1, tensorType));
    }
}
