using System.CommandLine;
using T5Gemma2.Rag.Cli.Configuration;
using T5Gemma2.Rag.Encoder.Onnx;

namespace T5Gemma2.Rag.Cli.Commands;

/// <summary>
/// The options every command that loads a model shares (--threads, --device), resolved against <see cref="T5RagSettings"/>
/// into the <see cref="OnnxSessionOptions"/> its ONNX Runtime sessions are created with.
/// </summary>
internal sealed class RuntimeOptions
{
    public Option<int?> Threads { get; } = new("--threads")
    {
        Description = $"ONNX Runtime threads per operator (default: t5rag.json \"threads\", T5RAG_THREADS, or every core this process may use: {OnnxSessionOptions.DefaultIntraOpThreads})",
    };

    public Option<ExecutionDevice> Device { get; } = new("--device")
    {
        Description = "Where ONNX Runtime runs: Cpu, or Cuda (needs the GPU build: dotnet build -p:OnnxRuntimeGpu=true)",
        DefaultValueFactory = _ => ExecutionDevice.Cpu,
    };

    public void AddTo(Command command)
    {
        command.Options.Add(this.Threads);
        command.Options.Add(this.Device);
    }

    /// <summary>The session settings: --threads, else the settings' threads, else every core; --device.</summary>
    /// <exception cref="UsageException">--threads is below 1.</exception>
    public OnnxSessionOptions Session(ParseResult parse, T5RagSettings settings)
    {
        int threads = parse.GetValue(this.Threads) ?? settings.Threads ?? OnnxSessionOptions.DefaultIntraOpThreads;
        if (threads < 1)
        {
            throw new UsageException($"--threads {threads}: expected at least 1.");
        }

        return new OnnxSessionOptions { IntraOpThreads = threads, Device = parse.GetValue(this.Device) };
    }
}
