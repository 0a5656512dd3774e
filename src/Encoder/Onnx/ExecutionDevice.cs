namespace T5Gemma2.Rag.Encoder.Onnx;

/// <summary>Where ONNX Runtime runs the graphs.</summary>
public enum ExecutionDevice
{
    /// <summary>The CPU execution provider (always present).</summary>
    Cpu,

    /// <summary>NVIDIA CUDA; needs the Microsoft.ML.OnnxRuntime.Gpu package and a CUDA runtime, else loading fails with a message saying so.</summary>
    Cuda,
}
