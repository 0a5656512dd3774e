using T5Gemma2.Rag.Indexer.Stores;

namespace T5Gemma2.Rag.Retrieval;

/// <summary>What a <see cref="PassageRetriever"/> fetches for a question.</summary>
/// <remarks>A record, so a caller can vary one setting (<c>options with { Top = 100 }</c>) without dropping the others.</remarks>
public sealed record RetrievalOptions
{
    /// <summary>Passages returned at most (after merging and the per-document cap).</summary>
    public int Top { get; init; } = 8;

    public SearchMode Mode { get; init; } = SearchMode.Hybrid;

    public FusionMethod Fusion { get; init; } = FusionMethod.ReciprocalRank;

    /// <summary>Convex fusion: the dense side's weight in [0, 1] (<see cref="SearchRequest.DenseWeight"/>).</summary>
    public double DenseWeight { get; init; } = 0.5;

    public PassageFilter Filter { get; init; } = PassageFilter.None;

    /// <summary>Hits scoring below this are dropped (the score of the mode: cosine, BM25 or the fused score).</summary>
    public double? ScoreThreshold { get; init; }

    /// <summary>Passages one document may contribute, so one long document cannot crowd out the rest.</summary>
    public int MaxPassagesPerDocument { get; init; } = 3;

    /// <summary>Join overlapping or consecutive passages of one document into one, so the context does not repeat text.</summary>
    public bool MergeAdjacent { get; init; } = true;

    /// <summary>Reorder the passages with the T5Gemma 2 decoder (<see cref="DecoderReranker"/>) when the retriever has one.</summary>
    public bool Rerank { get; init; }

    /// <summary>Hits fetched before merging and capping: a multiple of <see cref="Top"/>.</summary>
    public int CandidateFactor { get; init; } = 4;

    public static RetrievalOptions Default { get; } = new();

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the option that is out of range.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(this.Top, 1, nameof(this.Top));
        ArgumentOutOfRangeException.ThrowIfLessThan(this.MaxPassagesPerDocument, 1, nameof(this.MaxPassagesPerDocument));
        ArgumentOutOfRangeException.ThrowIfLessThan(this.CandidateFactor, 1, nameof(this.CandidateFactor));
        ArgumentNullException.ThrowIfNull(this.Filter, nameof(this.Filter));
        if (this.DenseWeight is < 0 or > 1 or double.NaN)
        {
            throw new ArgumentOutOfRangeException(nameof(this.DenseWeight), this.DenseWeight, "DenseWeight must be within [0, 1].");
        }
    }
}
