using T5Gemma2.Rag.Answering;
using T5Gemma2.Rag.Indexer.Pipeline;
using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Retrieval;
using T5Gemma2.Rag.SemanticKernel;

namespace T5Gemma2.Rag.Server.Collections;

/// <summary>
/// One open collection with what serves it — the retriever, the ingest pipeline, the answerer and the plugin the MCP
/// tools are made of — the same objects <c>t5rag search</c>, <c>index</c>, <c>ask</c> and <c>mcp</c> build, made once
/// per collection and kept while the server runs.
/// </summary>
public sealed class CollectionServices
{
    private readonly SemaphoreSlim _writes;

    internal CollectionServices(IPassageCollection collection, PassageRetriever retriever, IngestPipeline pipeline, RagAnswerer? answerer, KnowledgeBasePlugin plugin, SemaphoreSlim writes)
    {
        this._writes = writes;
        this.Collection = collection;
        this.Retriever = retriever;
        this.Pipeline = pipeline;
        this.Answerer = answerer;
        this.Plugin = plugin;
    }

    public string Name => this.Collection.Name;

    public IPassageCollection Collection { get; }

    public PassageRetriever Retriever { get; }

    /// <summary>Indexes into the collection; one run at a time (take <see cref="WriteAsync{T}"/>).</summary>
    public IngestPipeline Pipeline { get; }

    /// <summary>Answers over <see cref="Retriever"/>; null when the server has no generator.</summary>
    public RagAnswerer? Answerer { get; }

    /// <summary>The knowledge-base plugin over this collection (its own pipeline, and this collection's write lock): the MCP tools.</summary>
    public KnowledgeBasePlugin Plugin { get; }

    /// <summary>Runs a write (an ingestion job's run, a document's or the collection's deletion) alone among this collection's writes, the plugin's (MCP) included.</summary>
    public async Task<T> WriteAsync<T>(Func<CancellationToken, Task<T>> write, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(write);
        await this._writes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await write(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            this._writes.Release();
        }
    }
}
