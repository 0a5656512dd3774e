namespace T5Gemma2.Rag.Encoder.Checkpoints;

/// <summary>One tensor of a safetensors file: its element type, shape and byte range in the file's data section.</summary>
public sealed record SafeTensorInfo(string Name, string DataType, long[] Shape, long Begin, long End, string FilePath)
{
    public long ElementCount => CountElements(this.Shape);

    public string ShapeText => "[" + string.Join(", ", this.Shape) + "]";

    /// <summary>The number of elements of a tensor of this shape (1 for a scalar); overflow throws.</summary>
    public static long CountElements(IEnumerable<long> shape) => shape.Aggregate(1L, (a, b) => checked(a * b));

    /// <summary>Bytes per element of a safetensors dtype, or 0 for one this library does not read.</summary>
    public static int ElementSize(string dataType) => dataType switch
    {
        "F32" or "I32" => 4,
        "BF16" or "F16" => 2,
        "F64" or "I64" => 8,
        _ => 0,
    };
}
