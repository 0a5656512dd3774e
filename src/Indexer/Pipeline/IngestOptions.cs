using T5Gemma2.Rag.Indexer.Chunking;
using T5Gemma2.Rag.Indexer.Loading;

namespace T5Gemma2.Rag.Indexer.Pipeline;

/// <summary>How an <see cref="IngestPipeline"/> run reads, cuts, embeds and writes.</summary>
public sealed class IngestOptions
{
    /// <summary>Tokens of each passage's embedding input kept for its title and section path (the chunk budget is the model's input less this).</summary>
    public const int HeadingReserveTokens = 24;

    /// <summary>Chunk size and overlap; null chooses <see cref="ChunkingOptions.ForModel"/> for the embedding model, less <see cref="HeadingReserveTokens"/>.</summary>
    public ChunkingOptions? Chunking { get; init; }

    /// <summary>False keeps each document as one passage, cut only by the model's input length (BEIR evaluation indexes corpora so).</summary>
    public bool ChunkDocuments { get; init; } = true;

    /// <summary>Tags every passage of the run carries (filterable; part of what makes a document "changed").</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();

    /// <summary>After the run, remove the documents of files under the given paths that are gone (not those whose file failed to load).</summary>
    public bool Prune { get; init; }

    public DirectoryWalkOptions Walk { get; init; } = new();

    public JsonRecordLoaderOptions JsonRecords { get; init; } = new();

    /// <summary>Passages handed to the embedding generator at once (it batches them by its own token budget inside).</summary>
    public int EmbeddingBatchPassages { get; init; } = 256;

    /// <summary>Documents waiting between stages at most: what keeps memory flat whatever the corpus size.</summary>
    public int QueueDocuments { get; init; } = 256;
}
