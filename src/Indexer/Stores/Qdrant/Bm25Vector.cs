namespace T5Gemma2.Rag.Indexer.Stores.Qdrant;

/// <summary>A sparse BM25 vector: token ids (ascending, distinct) and their weights, as Qdrant's sparse vectors take them.</summary>
/// <param name="Indices">Token ids: |MurmurHash3_x86_32(stem)| as fastembed computes them.</param>
/// <param name="Values">Document: the BM25 term-frequency part; query: 1 per distinct token.</param>
public readonly record struct Bm25Vector(uint[] Indices, float[] Values)
{
    /// <summary>True when the text had no token left after stopwords (nothing to search or index).</summary>
    public bool IsEmpty => this.Indices is null || this.Indices.Length == 0;
}
