namespace T5Gemma2.Rag.Encoder.Onnx.Graph;

/// <summary>ONNX TensorProto.DataType values this project writes.</summary>
public enum OnnxDataType
{
    Float = 1,
    UInt8 = 2,
    Int8 = 3,
    Int32 = 6,
    Int64 = 7,
    Bool = 9,
    Float16 = 10,
}
