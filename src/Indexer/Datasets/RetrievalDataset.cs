using T5Gemma2.Rag.Indexer.Documents;

namespace T5Gemma2.Rag.Indexer.Datasets;

/// <summary>A judged retrieval set: a corpus, queries, and for each query the graded relevance of documents.</summary>
/// <param name="Name">Shown in reports.</param>
/// <param name="Corpus">Reads the documents (ids are those the judgments name); called once per indexing.</param>
/// <param name="Queries">Queries that have judgments: id → text.</param>
/// <param name="Judgments">Query id → (document id → graded relevance; 0 = judged not relevant).</param>
public sealed record RetrievalDataset(
    string Name,
    Func<CancellationToken, IAsyncEnumerable<LoadedDocument>> Corpus,
    IReadOnlyDictionary<string, string> Queries,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> Judgments);
