using Microsoft.ML.OnnxRuntime;

namespace T5Gemma2.Rag.Encoder.Onnx;

/// <summary>How ONNX Runtime sessions are set up. The defaults use every core this process may run on; every one can be changed.</summary>
public sealed class OnnxSessionOptions
{
    private readonly int _intraOpThreads = DefaultIntraOpThreads;

    /// <summary>CPU by default; CUDA only when asked for.</summary>
    public ExecutionDevice Device { get; init; } = ExecutionDevice.Cpu;

    /// <summary>The CUDA device ordinal when <see cref="Device"/> is CUDA.</summary>
    public int DeviceId { get; init; }

    /// <summary>
    /// Threads inside one operator; <see cref="DefaultIntraOpThreads"/> unless set. Always explicit: ONNX Runtime's own
    /// default (0) ran every session on one of this project's two cores (cpu ÷ wall 1.02 against 1.99 with 2).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Set below 1.</exception>
    public int IntraOpThreads
    {
        get => this._intraOpThreads;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1, nameof(this.IntraOpThreads));
            this._intraOpThreads = value;
        }
    }

    /// <summary>Threads across independent operators; graphs here are sequential, so 1.</summary>
    public int InterOpThreads { get; init; } = 1;

    public GraphOptimizationLevel GraphOptimizationLevel { get; init; } = GraphOptimizationLevel.ORT_ENABLE_ALL;

    /// <summary>ONNX Runtime's CPU memory arena: faster repeated runs at the cost of memory it keeps.</summary>
    public bool EnableMemoryArena { get; init; } = true;

    /// <summary>Memory-pattern planning pays off only when shapes repeat; batches here vary in shape, so it is off by default.</summary>
    public bool EnableMemoryPattern { get; init; }

    /// <summary>When set, ONNX Runtime writes a per-operator profile (JSON) of every run to a file starting with this path.</summary>
    public string? ProfileFilePrefix { get; init; }

    /// <summary>Default settings.</summary>
    public static OnnxSessionOptions Default { get; } = new();

    /// <summary>
    /// Every processor this process may use: <see cref="Environment.ProcessorCount"/>, which honours a container's CPU
    /// limit and the process's affinity mask.
    /// </summary>
    public static int DefaultIntraOpThreads => Environment.ProcessorCount;

    /// <summary>These settings with ONNX Runtime's profiler writing to files that start with <paramref name="prefix"/>.</summary>
    public OnnxSessionOptions WithProfile(string prefix) => new()
    {
        Device = this.Device,
        DeviceId = this.DeviceId,
        IntraOpThreads = this.IntraOpThreads,
        InterOpThreads = this.InterOpThreads,
        GraphOptimizationLevel = this.GraphOptimizationLevel,
        EnableMemoryArena = this.EnableMemoryArena,
        EnableMemoryPattern = this.EnableMemoryPattern,
        ProfileFilePrefix = prefix,
    };
}
