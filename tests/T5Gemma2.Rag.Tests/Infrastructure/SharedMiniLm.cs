using T5Gemma2.Rag.Encoder.Embeddings;

namespace T5Gemma2.Rag.Tests.Infrastructure;

/// <summary>One ONNX Runtime session of the real all-MiniLM-L6-v2 model, shared by the test assembly.</summary>
public sealed class SharedMiniLm : IDisposable
{
    public OnnxEmbeddingGenerator Generator { get; } = OnnxEmbeddingGenerator.Create(TestAssets.MiniLmDirectory);

    public void Dispose() => this.Generator.Dispose();
}
