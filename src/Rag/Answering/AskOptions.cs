using T5Gemma2.Rag.Encoder.Generation;
using T5Gemma2.Rag.Indexer.Documents;
using T5Gemma2.Rag.Packing;
using T5Gemma2.Rag.Retrieval;

namespace T5Gemma2.Rag.Answering;

/// <summary>How a question is answered: what is retrieved, how it is packed, how the answer is generated, and the time allowed.</summary>
public sealed class AskOptions
{
    public RetrievalOptions Retrieval { get; init; } = RetrievalOptions.Default;

    public PackingOptions Packing { get; init; } = PackingOptions.Default;

    /// <summary>Decoder settings (greedy by default; sampling and beams as options). Beams cannot stream.</summary>
    public GenerationOptions Generation { get; init; } = new() { MaxNewTokens = 256 };

    /// <summary>Generation stops at this time and the answer so far is returned, marked as timed out.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>
    /// The question's own images (a screenshot, a photo of a part), placed after the question in the encoder input so
    /// the decoder cross-attends to them with the passages; retrieval uses the question's text. They need a vision model.
    /// </summary>
    public IReadOnlyList<PassageImage> QuestionImages { get; init; } = [];

    public static AskOptions Default { get; } = new();
}
