using Microsoft.Extensions.AI;
using T5Gemma2.Rag.Encoder;
using T5Gemma2.Rag.Encoder.Embeddings;
using T5Gemma2.Rag.Indexer.Documents;
using T5Gemma2.Rag.Indexer.Stores;

namespace T5Gemma2.Rag.Retrieval;

/// <summary>
/// Finds the passages that answer a question: embeds it as a query, searches the collection, drops hits under the
/// score threshold, merges overlapping or consecutive passages of one document, and caps each document's share.
/// </summary>
public sealed class PassageRetriever
{
    private readonly IEmbeddingGenerator<string, Embedding<float>>? _embedder;
    private readonly DecoderReranker? _reranker;

    /// <param name="embedder">The collection's embedding model; null for a retriever that only searches by keyword (no model loaded).</param>
    /// <param name="collection">Where to search.</param>
    /// <param name="reranker">Used when <see cref="RetrievalOptions.Rerank"/> is set.</param>
    public PassageRetriever(IEmbeddingGenerator<string, Embedding<float>>? embedder, IPassageCollection collection, DecoderReranker? reranker = null)
    {
        ArgumentNullException.ThrowIfNull(collection);
        this._embedder = embedder;
        this.Collection = collection;
        this._reranker = reranker;
    }

    public IPassageCollection Collection { get; }

    /// <summary>The best passages for the question, best first.</summary>
    /// <exception cref="ArgumentException">The question is empty.</exception>
    /// <exception cref="InvalidOperationException">Dense or hybrid search of a retriever without an embedding model, or rerank of one without a reranker.</exception>
    public async Task<IReadOnlyList<RetrievedPassage>> RetrieveAsync(string question, RetrievalOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(question);
        options ??= RetrievalOptions.Default;
        options.Validate();
        using var activity = T5RagTelemetry.Source.StartActivity("retrieve");
        activity?.SetTag(T5RagTelemetry.CollectionTag, this.Collection.Name).SetTag("t5rag.retrieval.mode", options.Mode.ToString().ToLowerInvariant());
        ReadOnlyMemory<float>? vector = null;
        if (options.Mode != SearchMode.Keyword)
        {
            var embedder = this._embedder ?? throw new InvalidOperationException($"{options.Mode} search needs the query's embedding, but this retriever has no embedding model; construct it with one, or search in Keyword mode.");
            var embeddings = await embedder.GenerateAsync([question], new EmbeddingGenerationOptions().WithInputKind(EmbeddingInputKind.Query), cancellationToken).ConfigureAwait(false);
            vector = embeddings[0].Vector;
        }

        var request = new SearchRequest(options.Mode, options.Top * options.CandidateFactor)
        {
            Vector = vector,
            Text = question,
            Filter = options.Filter,
            Fusion = options.Fusion,
            DenseWeight = options.DenseWeight,
        };
        var hits = await this.Collection.SearchAsync(request, cancellationToken).ConfigureAwait(false);
        var kept = hits.Where(h => options.ScoreThreshold is not { } threshold || h.Score >= threshold).ToList();
        var passages = options.MergeAdjacent ? Merge(kept) : [.. kept.Select(Single)];
        var perDocument = new Dictionary<string, int>(StringComparer.Ordinal);
        List<RetrievedPassage> selected = [.. passages
            .OrderByDescending(p => p.Score)
            .Where(p => (perDocument[p.DocumentId] = perDocument.GetValueOrDefault(p.DocumentId) + 1) <= options.MaxPassagesPerDocument)
            .Take(options.Top)];
        if (options.Rerank)
        {
            var reranker = this._reranker ?? throw new InvalidOperationException("Rerank was asked for, but this retriever has no DecoderReranker; construct it with one.");
            using var rerank = T5RagTelemetry.Source.StartActivity("rerank");
            return await reranker.RerankAsync(question, selected, cancellationToken).ConfigureAwait(false);
        }

        return selected;
    }

    private static RetrievedPassage Single(SearchHit hit) => new(
        [hit.Passage.Id], hit.Passage.DocumentId, hit.Passage.Source, hit.Passage.Title, hit.Passage.SectionPath, hit.Passage.Page,
        hit.Passage.Start, hit.Passage.Length, hit.Passage.ChunkIndex, hit.Passage.Text, hit.Score)
    {
        Kind = hit.Passage.Kind,
        Image = hit.Passage.Image,
        Tags = hit.Passage.Tags,
        DenseRank = hit.DenseRank,
        KeywordRank = hit.KeywordRank,
    };

    /// <summary>Joins hits of one document whose chunks are consecutive and whose spans overlap or touch; the best score stands for the group.</summary>
    private static List<RetrievedPassage> Merge(List<SearchHit> hits)
    {
        var merged = new List<RetrievedPassage>();
        foreach (var group in hits.GroupBy(h => h.Passage.DocumentId, StringComparer.Ordinal))
        {
            RetrievedPassage? current = null;
            int lastChunk = -2;
            foreach (var hit in group.OrderBy(h => h.Passage.ChunkIndex))
            {
                var p = hit.Passage;
                int end = current is null ? -1 : current.Start + current.Length;
                if (current is not null && current.Kind == PassageKind.Text && p.Kind == PassageKind.Text && p.ChunkIndex == lastChunk + 1 && p.Start <= end && p.SectionPath == current.SectionPath && p.Page == current.Page)
                {
                    // Both texts are slices of the same document text, so the overlap can be cut exactly.
                    int overlap = end - p.Start;
                    string text = current.Text + (overlap < p.Text.Length ? p.Text[overlap..] : string.Empty);
                    int newEnd = Math.Max(end, p.Start + p.Length);
                    bool better = hit.Score > current.Score;
                    current = current with
                    {
                        PassageIds = [.. current.PassageIds, p.Id],
                        Length = newEnd - current.Start,
                        Text = text,
                        Score = Math.Max(current.Score, hit.Score),
                        DenseRank = better ? hit.DenseRank : current.DenseRank,
                        KeywordRank = better ? hit.KeywordRank : current.KeywordRank,
                    };
                }
                else
                {
                    if (current is not null)
                    {
                        merged.Add(current);
                    }

                    current = Single(hit);
                }

                lastChunk = p.ChunkIndex;
            }

            if (current is not null)
            {
                merged.Add(current);
            }
        }

        return merged;
    }
}
