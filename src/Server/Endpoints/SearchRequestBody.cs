using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Retrieval;

namespace T5Gemma2.Rag.Server.Endpoints;

/// <summary>The body of <c>POST /api/collections/{name}/search</c>.</summary>
public sealed class SearchRequestBody
{
    /// <summary>What to look for; required.</summary>
    public string? Query { get; init; }

    /// <summary>Passages to return (default 8).</summary>
    public int? Top { get; init; }

    /// <summary>dense, keyword or hybrid (default hybrid).</summary>
    public SearchMode? Mode { get; init; }

    public RequestFilters? Filters { get; init; }

    /// <summary>reciprocal_rank or convex (hybrid only).</summary>
    public FusionMethod? Fusion { get; init; }

    /// <summary>Convex fusion's dense weight in [0, 1].</summary>
    public double? DenseWeight { get; init; }

    /// <summary>Reorder with the T5Gemma 2 decoder (needs a generator).</summary>
    public bool? Rerank { get; init; }

    /// <summary>The retrieval options the body asks for, or the problem with it.</summary>
    internal (RetrievalOptions? Options, string? Problem, string? Field) ToRetrieval(int maxTop)
    {
        if (this.Top is { } top && (top < 1 || top > maxTop))
        {
            return (null, $"top {top}: expected 1 to {maxTop}.", "top");
        }

        if (this.DenseWeight is { } weight && (weight < 0 || weight > 1 || double.IsNaN(weight)))
        {
            return (null, $"dense_weight {weight}: expected a number from 0 to 1.", "dense_weight");
        }

        var (filter, problem, field) = (this.Filters ?? new RequestFilters()).ToFilter();
        if (filter is null)
        {
            return (null, problem, field);
        }

        var defaults = RetrievalOptions.Default;
        return (defaults with
        {
            Top = this.Top ?? defaults.Top,
            Mode = this.Mode ?? defaults.Mode,
            Fusion = this.Fusion ?? defaults.Fusion,
            DenseWeight = this.DenseWeight ?? defaults.DenseWeight,
            Rerank = this.Rerank ?? false,
            Filter = filter,
        }, null, null);
    }
}
