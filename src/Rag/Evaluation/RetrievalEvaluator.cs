using System.Diagnostics;
using T5Gemma2.Rag.Indexer.Datasets;
using T5Gemma2.Rag.Retrieval;

namespace T5Gemma2.Rag.Evaluation;

/// <summary>
/// Runs a dataset's judged queries through a <see cref="PassageRetriever"/>, the path ask and the plugins take, and
/// scores each retrieval setting given.
/// </summary>
public static class RetrievalEvaluator
{
    /// <summary>Passages ranked per query: enough for Recall@100.</summary>
    public const int Depth = 100;

    /// <summary>
    /// The settings a run measures: <paramref name="settings"/> with <see cref="Depth"/> passages from
    /// <see cref="Depth"/> hits. Merging and the per-document cap only take passages away, so each document keeps the
    /// rank of its best passage, as BEIR ranks documents; more candidates would change what hybrid fuses.
    /// </summary>
    public static RetrievalOptions Measured(RetrievalOptions settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return settings with { Top = Depth, CandidateFactor = 1 };
    }

    /// <param name="dataset">The queries and judgments (by document id); its corpus must already be indexed into the retriever's collection.</param>
    /// <param name="retriever">Retrieves as ask does: query embedding, search, merging, per-document cap, reranking.</param>
    /// <param name="settings">One run per entry (mode, fusion, filter, rerank …); depth and candidates are set by <see cref="Measured"/>.</param>
    /// <param name="cancellationToken">Stops between queries.</param>
    public static async Task<IReadOnlyList<RetrievalScores>> EvaluateAsync(
        RetrievalDataset dataset,
        PassageRetriever retriever,
        IReadOnlyList<RetrievalOptions> settings,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(retriever);
        ArgumentNullException.ThrowIfNull(settings);
        var ids = dataset.Queries.Keys.Order(StringComparer.Ordinal).ToList();
        var scores = new List<RetrievalScores>();
        foreach (var run in settings)
        {
            var options = Measured(run);
            double ndcg = 0, recall10 = 0, recall100 = 0, mrr = 0;
            var clock = new Stopwatch();
            foreach (string id in ids)
            {
                cancellationToken.ThrowIfCancellationRequested();
                string query = dataset.Queries[id];
                clock.Start();

                // A blank query finds nothing (the retriever refuses it) and scores 0, as any miss does.
                var passages = string.IsNullOrWhiteSpace(query) ? [] : await retriever.RetrieveAsync(query, options, cancellationToken).ConfigureAwait(false);
                clock.Stop();

                // Judgments are by document: a passage, merged or not, counts for its document, ranked by its best passage.
                var ranked = passages.Select(p => p.DocumentId).Distinct(StringComparer.Ordinal).ToList();
                var judged = dataset.Judgments[id];
                ndcg += RetrievalMetrics.Ndcg(ranked, judged, 10);
                recall10 += RetrievalMetrics.Recall(ranked, judged, 10);
                recall100 += RetrievalMetrics.Recall(ranked, judged, 100);
                mrr += RetrievalMetrics.ReciprocalRank(ranked, judged, 10);
            }

            int n = Math.Max(ids.Count, 1);
            scores.Add(new RetrievalScores(options, ids.Count, ndcg / n, recall10 / n, recall100 / n, mrr / n, clock.Elapsed / n));
        }

        return scores;
    }
}
