using T5Gemma2.Rag.Answering;
using T5Gemma2.Rag.Encoder.Generation;
using T5Gemma2.Rag.Packing;

namespace T5Gemma2.Rag.Server.Endpoints;

/// <summary>The body of <c>POST /api/collections/{name}/ask</c>: the question, and how to retrieve and answer.</summary>
public sealed class AskRequestBody
{
    /// <summary>The question; required.</summary>
    public string? Question { get; init; }

    /// <summary>Passages to give the model (default 8).</summary>
    public int? Top { get; init; }

    public Indexer.Stores.SearchMode? Mode { get; init; }

    public RequestFilters? Filters { get; init; }

    public Indexer.Stores.FusionMethod? Fusion { get; init; }

    public double? DenseWeight { get; init; }

    public bool? Rerank { get; init; }

    /// <summary>Encoder tokens the packed context may take (default: the model's input length).</summary>
    public int? Budget { get; init; }

    /// <summary>Tokens the answer may have at most (default 256).</summary>
    public int? MaxNewTokens { get; init; }

    /// <summary>Stream server-sent events instead of one JSON answer (also chosen by Accept: text/event-stream).</summary>
    public bool? Stream { get; init; }

    /// <summary>The ask options the body asks for, or the problem with it.</summary>
    internal (AskOptions? Options, string? Problem, string? Field) ToAskOptions(int maxTop, TimeSpan timeout)
    {
        var search = new SearchRequestBody { Query = this.Question, Top = this.Top, Mode = this.Mode, Filters = this.Filters, Fusion = this.Fusion, DenseWeight = this.DenseWeight, Rerank = this.Rerank };
        var (retrieval, problem, field) = search.ToRetrieval(maxTop);
        if (retrieval is null)
        {
            return (null, problem, field);
        }

        if (this.Budget is { } budget && (budget < 64 || budget > 1 << 20))
        {
            return (null, $"budget {budget}: expected 64 to {1 << 20} tokens.", "budget");
        }

        if (this.MaxNewTokens is { } tokens && (tokens < 1 || tokens > 8192))
        {
            return (null, $"max_new_tokens {tokens}: expected 1 to 8192.", "max_new_tokens");
        }

        return (new AskOptions
        {
            Retrieval = retrieval,
            Packing = this.Budget is { } tokenBudget ? new PackingOptions { TokenBudget = tokenBudget } : PackingOptions.Default,
            Generation = new GenerationOptions { MaxNewTokens = this.MaxNewTokens ?? AskOptions.Default.Generation.MaxNewTokens },
            Timeout = timeout,
        }, null, null);
    }
}
