namespace T5Gemma2.Rag.Encoder.Checkpoints;

/// <summary>One tensor of a safetensors file: its element type, shape and byte range in the file's data section.</summary>
public sealed record SafeTensorInfo(string Name, string DataType, long[] Shape, long Begin, long End, string FilePath)
{
    public long ElementCount => TensorData.CountElements(this.Shape);

    public string ShapeText => "[" + string.Join(", ", this.Shape) + "]";

    /// <summary>Bytes per element of a safetensors dtype, or 0 for one this library does not read.</summary>
    public static int ElementSize(string dataType) => dataType switch
    {
        "F32" or "I32" => 4,
        "BF16" or "F16" => 2,
        "F64" or "I64" => 8,
        _ => 0,
    };
}
