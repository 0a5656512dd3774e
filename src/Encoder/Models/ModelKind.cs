namespace T5Gemma2.Rag.Encoder.Models;

/// <summary>The kinds of model directory this library runs, told apart by the directory's own config.json.</summary>
public enum ModelKind
{
    /// <summary>A T5Gemma 2 checkpoint converted by <c>t5rag model convert</c>: its bidirectional encoder gives the embeddings.</summary>
    T5Gemma2,

    /// <summary>
    /// A bidirectional Gemma 3 text model converted by <c>t5rag model convert</c> (<c>gemma3_text</c>, e.g. EmbeddingGemma):
    /// an encoder only, with the Gemma tokenizer; it embeds and never generates.
    /// </summary>
    Gemma3Encoder,

    /// <summary>A BERT-family sentence-transformers ONNX export (WordPiece vocab.txt, e.g. all-MiniLM-L6-v2).</summary>
    BertSentenceTransformer,
}
