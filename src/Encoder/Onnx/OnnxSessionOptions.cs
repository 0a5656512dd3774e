using Microsoft.ML.OnnxRuntime;

namespace T5Gemma2.Rag.Encoder.Onnx;

/// <summary>How ONNX Runtime sessions are set up. The defaults suit embedding on a CPU; every one can be changed.</summary>
public sealed class OnnxSessionOptions
{
    /// <summary>CPU by default; CUDA only when asked for.</summary>
    public ExecutionDevice Device { get; init; } = ExecutionDevice.Cpu;

    /// <summary>The CUDA device ordinal when <see cref="Device"/> is CUDA.</summary>
    public int DeviceId { get; init; }

    /// <summary>Threads inside one operator; 0 lets ONNX Runtime use one per physical core.</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>Threads across independent operators; graphs here are sequential, so 1.</summary>
    public int InterOpThreads { get; init; } = 1;

    public GraphOptimizationLevel GraphOptimizationLevel { get; init; } = GraphOptimizationLevel.ORT_ENABLE_ALL;

    /// <summary>ONNX Runtime's CPU memory arena: faster repeated runs at the cost of memory it keeps.</summary>
    public bool EnableMemoryArena { get; init; } = true;

    /// <summary>Memory-pattern planning pays off only when shapes repeat; batches here vary in shape, so it is off by default.</summary>
    public bool EnableMemoryPattern { get; init; }

    /// <summary>Default settings.</summary>
    public static OnnxSessionOptions Default { get; } = new();
}
