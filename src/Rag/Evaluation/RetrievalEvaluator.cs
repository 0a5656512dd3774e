using System.Diagnostics;
using Microsoft.Extensions.AI;
using T5Gemma2.Rag.Encoder.Embeddings;
using T5Gemma2.Rag.Indexer.Stores;

namespace T5Gemma2.Rag.Indexer.Evaluation;

/// <summary>Runs a dataset's judged queries against an indexed collection and scores each search mode.</summary>
public static class RetrievalEvaluator
{
    /// <summary>Passages fetched per query: enough for Recall@100 when several passages share a document.</summary>
    private const int Depth = 100;

    /// <param name="dataset">The queries and judgments; its corpus must already be indexed into <paramref name="collection"/>.</param>
    /// <param name="embedder">The model the collection was indexed with (queries are embedded as queries).</param>
    /// <param name="collection">The indexed corpus.</param>
    /// <param name="modes">The modes to score; hybrid with each fusion method given.</param>
    /// <param name="cancellationToken">Stops between queries.</param>
    public static async Task<IReadOnlyList<RetrievalScores>> EvaluateAsync(
        RetrievalDataset dataset,
        IEmbeddingGenerator<string, Embedding<float>> embedder,
        IPassageCollection collection,
        IReadOnlyList<(SearchMode Mode, FusionMethod Fusion)> modes,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(embedder);
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(modes);
        var ids = dataset.Queries.Keys.Order(StringComparer.Ordinal).ToList();
        var vectors = ids.Count == 0
            ? []
            : await embedder.GenerateAsync([.. ids.Select(id => dataset.Queries[id])], new EmbeddingGenerationOptions().WithInputKind(EmbeddingInputKind.Query), cancellationToken).ConfigureAwait(false);
        var scores = new List<RetrievalScores>();
        foreach (var (mode, fusion) in modes)
        {
            double ndcg = 0, recall10 = 0, recall100 = 0, mrr = 0;
            var clock = new Stopwatch();
            for (int q = 0; q < ids.Count; q++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                clock.Start();
                var hits = await collection.SearchAsync(new SearchRequest(mode, Depth) { Vector = vectors[q].Vector, Text = dataset.Queries[ids[q]], Fusion = fusion }, cancellationToken).ConfigureAwait(false);
                clock.Stop();

                // Documents in the order of their best passage.
                var ranked = hits.Select(h => h.Passage.DocumentId).Distinct(StringComparer.Ordinal).ToList();
                var judged = dataset.Judgments[ids[q]];
                ndcg += RetrievalMetrics.Ndcg(ranked, judged, 10);
                recall10 += RetrievalMetrics.Recall(ranked, judged, 10);
                recall100 += RetrievalMetrics.Recall(ranked, judged, 100);
                mrr += RetrievalMetrics.ReciprocalRank(ranked, judged, 10);
            }

            int n = Math.Max(ids.Count, 1);
            scores.Add(new RetrievalScores(mode, mode == SearchMode.Hybrid ? fusion : null, ids.Count, ndcg / n, recall10 / n, recall100 / n, mrr / n, clock.Elapsed / n));
        }

        return scores;
    }
}
