namespace T5Gemma2.Rag.Encoder.Embeddings;

/// <summary>
/// Vectors of a length the model cannot make were asked for: longer than its width, or a Matryoshka cut it was not
/// trained for. One line naming the model, the length asked and what it supports.
/// </summary>
public sealed class EmbeddingDimensionsException : T5RagException
{
    public EmbeddingDimensionsException(string modelId, int dimensions, string expected)
        : base($"model '{modelId}' cannot make {dimensions}-dimension vectors (Dimensions, --dimensions); {expected}.")
    {
        this.ModelId = modelId;
        this.Dimensions = dimensions;
    }

    public string ModelId { get; }

    /// <summary>The length asked for.</summary>
    public int Dimensions { get; }

    /// <summary>The model cannot make what was asked: the same outcome, for a caller, as using a collection with the wrong model.</summary>
    public override FailureKind Kind => FailureKind.ModelMismatch;
}
