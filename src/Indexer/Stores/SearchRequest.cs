namespace T5Gemma2.Rag.Indexer.Stores;

/// <summary>One search of a collection.</summary>
public sealed class SearchRequest
{
    /// <summary>Reciprocal rank fusion's k (score = Σ 1 / (k + rank), ranks from 1): 60, the value of Cormack et al. that
    /// most engines use (Qdrant's formula counts ranks from 0, so this is its k = 61).</summary>
    public const int DefaultRrfK = 60;

    /// <param name="mode">Dense needs <see cref="Vector"/>, keyword needs <see cref="Text"/>, hybrid needs both.</param>
    public SearchRequest(SearchMode mode, int top)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        this.Mode = mode;
        this.Top = top;
    }

    public SearchMode Mode { get; }

    /// <summary>Passages to return at most.</summary>
    public int Top { get; }

    /// <summary>The query's embedding (dense and hybrid).</summary>
    public ReadOnlyMemory<float>? Vector { get; init; }

    /// <summary>The query's text (keyword and hybrid).</summary>
    public string? Text { get; init; }

    public PassageFilter Filter { get; init; } = PassageFilter.None;

    /// <summary>Hybrid: how many of each ranking are fused (at least <see cref="Top"/>).</summary>
    public int HybridCandidates { get; init; } = 100;

    public int RrfK { get; init; } = DefaultRrfK;

    /// <summary>How hybrid search merges its two rankings.</summary>
    public FusionMethod Fusion { get; init; } = FusionMethod.ReciprocalRank;

    /// <summary>Convex fusion: the dense side's weight α in α·dense + (1 − α)·keyword, both min-max normalized (0.5: equal).</summary>
    public double DenseWeight { get; init; } = 0.5;

    /// <summary>Throws <see cref="ArgumentException"/> naming what the mode needs and is missing.</summary>
    public void Validate()
    {
        if (this.Mode is SearchMode.Dense or SearchMode.Hybrid && this.Vector is null)
        {
            throw new ArgumentException($"{this.Mode} search needs the query's vector.", nameof(this.Vector));
        }

        if (this.Mode is SearchMode.Keyword or SearchMode.Hybrid && this.Text is null)
        {
            throw new ArgumentException($"{this.Mode} search needs the query's text.", nameof(this.Text));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(this.RrfK, 1, nameof(this.RrfK));
        ArgumentOutOfRangeException.ThrowIfLessThan(this.HybridCandidates, 1, nameof(this.HybridCandidates));
        if (this.DenseWeight is < 0 or > 1 or double.NaN)
        {
            throw new ArgumentOutOfRangeException(nameof(this.DenseWeight), this.DenseWeight, "DenseWeight must be within [0, 1].");
        }
    }
}
