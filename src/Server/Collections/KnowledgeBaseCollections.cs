using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using T5Gemma2.Rag.Answering;
using T5Gemma2.Rag.Encoder.Embeddings;
using T5Gemma2.Rag.Encoder.Generation;
using T5Gemma2.Rag.Encoder.Models;
using T5Gemma2.Rag.Indexer.Pipeline;
using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Retrieval;
using T5Gemma2.Rag.SemanticKernel;
using T5Gemma2.Rag.Server.Answering;
using T5Gemma2.Rag.Server.Hosting;

namespace T5Gemma2.Rag.Server.Collections;

/// <summary>
/// The server's models and store, and every collection it serves: the embedding model (one for all collections), the
/// optional T5Gemma 2 generator, the store, and per collection a <see cref="CollectionServices"/> made on first use.
/// </summary>
/// <remarks>
/// When one model embeds and answers, the embedding generator runs the generator's own encoder session, as
/// <c>AddT5Gemma2Rag</c> does. Collections opened here are checked against the embedding model: a collection of
/// another model is refused with <see cref="ModelMismatchException"/>.
/// </remarks>
public sealed class KnowledgeBaseCollections : IDisposable
{
    private readonly KnowledgeBaseServerOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ConcurrentDictionary<string, Lazy<Task<CollectionServices>>> _open = new(StringComparer.Ordinal);
    private readonly Func<IPassageStore> _openStore;
    private readonly Lock _loading = new();
    private Loaded? _loaded;

    public KnowledgeBaseCollections(KnowledgeBaseServerOptions options, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        options.Validate();
        this._options = options;
        this._loggerFactory = loggerFactory;
        this.Answerer = options.ResolveAnswerer();
        this._openStore = () => PassageStores.Open(options.Store, loggerFactory, qdrant => qdrant with { ApiKey = options.QdrantApiKey ?? qdrant.ApiKey });
    }

    /// <summary>Whether the models are loaded and the store open (what <c>/readyz</c> reports).</summary>
    public bool IsReady => Volatile.Read(ref this._loaded) is not null;

    /// <summary>The embedding model, shared by every collection.</summary>
    public OnnxEmbeddingGenerator Embedder => this.Models().Embedder;

    /// <summary>The generator (it answers, or reranks for another answerer), or null.</summary>
    public Seq2SeqGenerator? Generator => this.Models().Generator;

    /// <summary>Which chat model answers, or null when the server answers nothing (search only).</summary>
    public AnswererSpec? Answerer { get; }

    /// <summary>The store.</summary>
    public IPassageStore Store => this.Models().Store;

    /// <summary>The tokens of <paramref name="text"/> as the answerer counts them (the generator's, or a chat answerer's tokenizer).</summary>
    public int CountAnswerTokens(string text) => this.Answerer is { NeedsGenerator: true }
        ? this.Generator!.Tokenizer.EncodeToIdsAsPlainText(text).Count
        : AnswererSpec.CountChatTokens(text);

    /// <summary>The id the embedding model is known by (what <c>/v1/models</c> lists), its directory name.</summary>
    public string EmbeddingModelId => ModelName(this._options.EmbeddingModelDirectory!);

    /// <summary>The id the generator is known by, or null.</summary>
    public string? GeneratorModelId => this._options.GeneratorModelDirectory is { } generator ? ModelName(generator) : null;

    /// <summary>Loads the models and opens the store now (at startup), so a wrong directory fails before the first request.</summary>
    public void Load() => _ = this.Models();

    /// <summary>The collections in the store.</summary>
    public Task<IReadOnlyList<string>> ListAsync(CancellationToken cancellationToken) => this.Store.ListCollectionsAsync(cancellationToken);

    /// <summary>The collection's services, or null when the store has no collection of that name.</summary>
    /// <exception cref="ModelMismatchException">The collection was indexed with another model.</exception>
    public async Task<CollectionServices?> OpenAsync(string name, CancellationToken cancellationToken)
    {
        if (this._open.TryGetValue(name, out var opened))
        {
            return await this.AwaitOrForgetAsync(name, opened).ConfigureAwait(false);
        }

        if (!(await this.ListAsync(cancellationToken).ConfigureAwait(false)).Contains(name, StringComparer.Ordinal))
        {
            return null;
        }

        return await this.OpenOrCreateAsync(name, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The collection's services, creating the collection (for the embedding model) when there is none.</summary>
    /// <exception cref="ModelMismatchException">The collection was indexed with another model.</exception>
    public async Task<CollectionServices> OpenOrCreateAsync(string name, CancellationToken cancellationToken)
    {
        var opened = this._open.GetOrAdd(name, n => new Lazy<Task<CollectionServices>>(() => this.CreateServicesAsync(n, CancellationToken.None)));
        return await this.AwaitOrForgetAsync(name, opened).ConfigureAwait(false);
    }

    /// <summary>Deletes the collection and its passages; false when there was none.</summary>
    public async Task<bool> DeleteAsync(string name, CancellationToken cancellationToken)
    {
        // Under the collection's write lock, so no job or MCP write is inside it; the store closes the collection it deletes.
        if (this._open.TryGetValue(name, out var opened) && opened.IsValueCreated && opened.Value.IsCompletedSuccessfully)
        {
            return await opened.Value.Result.WriteAsync(
                async ct =>
                {
                    this._open.TryRemove(name, out _);
                    return await this.Store.DeleteCollectionAsync(name, ct).ConfigureAwait(false);
                },
                cancellationToken).ConfigureAwait(false);
        }

        this._open.TryRemove(name, out _);
        return await this.Store.DeleteCollectionAsync(name, cancellationToken).ConfigureAwait(false);
    }

    public void Dispose()
    {
        // The store closes the collections it opened.
        if (this._loaded is { } loaded)
        {
            loaded.Store.Dispose();
            loaded.Embedder.Dispose();
            loaded.Generator?.Dispose();
            loaded.ChatClient?.Dispose();
        }
    }

    private static string ModelName(string directory) => Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory)));

    private async Task<CollectionServices> AwaitOrForgetAsync(string name, Lazy<Task<CollectionServices>> opened)
    {
        try
        {
            return await opened.Value.ConfigureAwait(false);
        }
        catch
        {
            // A failed open (a store that was down, a collection of another model) is tried again by the next request.
            this._open.TryRemove(new KeyValuePair<string, Lazy<Task<CollectionServices>>>(name, opened));
            throw;
        }
    }

    private async Task<CollectionServices> CreateServicesAsync(string name, CancellationToken cancellationToken)
    {
        var loaded = this.Models();
        var collection = await loaded.Store.OpenOrCreateCollectionAsync(name, loaded.Embedder.CollectionSettings(), cancellationToken).ConfigureAwait(false);
        var retriever = new PassageRetriever(loaded.Embedder, collection, loaded.Generator is null ? null : new DecoderReranker(loaded.Generator));
        var answerer = this.Answerer?.CreateAnswerer(retriever, loaded.Generator, loaded.ChatClient, this._loggerFactory);
        var pluginOptions = new KnowledgeBaseOptions
        {
            EmbeddingModelDirectory = this._options.EmbeddingModelDirectory,
            GeneratorModelDirectory = this._options.GeneratorModelDirectory,
            Store = this._options.Store,
            CollectionName = name,
            AnswerTimeout = this._options.AskTimeout,
            MaxTop = this._options.MaxTop,

            // The server's callers are remote: no tool reads the server's disk (index_file, ask's image by path).
            ReadHostFiles = false,
        };

        // The plugin gets its own pipeline (a pipeline runs one run at a time) but the collection's one write lock, so
        // an MCP write never interleaves with an ingestion job or a deletion.
        var writes = new SemaphoreSlim(1, 1);
        var plugin = new KnowledgeBasePlugin(retriever, IngestPipeline.Create(loaded.Embedder, collection, loggerFactory: this._loggerFactory), answerer, pluginOptions, writes);
        return new CollectionServices(collection, retriever, IngestPipeline.Create(loaded.Embedder, collection, loggerFactory: this._loggerFactory), answerer, plugin, writes);
    }

    private Loaded Models()
    {
        if (Volatile.Read(ref this._loaded) is { } loaded)
        {
            return loaded;
        }

        lock (this._loading)
        {
            if (this._loaded is null)
            {
                // The chat client first: it loads nothing, so a key that cannot go fails before any model is loaded.
                var chat = this.Answerer?.CreateChatClient(this._options.AnswererApiKey ?? Environment.GetEnvironmentVariable("OPENAI_API_KEY"));
                var embedding = new OnnxEmbeddingGeneratorOptions { Session = this._options.Session, Dimensions = this._options.Dimensions };
                var generator = this._options.GeneratorModelDirectory is { } directory ? Seq2SeqGenerator.Create(directory, this._options.Session) : null;
                var embedder = generator is not null && ModelDirectory.IsSameDirectory(this._options.GeneratorModelDirectory!, this._options.EmbeddingModelDirectory!)
                    ? generator.CreateEmbeddingGenerator(embedding, this._loggerFactory)
                    : OnnxEmbeddingGenerator.Create(this._options.EmbeddingModelDirectory!, embedding, this._loggerFactory);
                Volatile.Write(ref this._loaded, new Loaded(embedder, generator, chat, this._openStore()));
            }

            return this._loaded!;
        }
    }

    private sealed record Loaded(OnnxEmbeddingGenerator Embedder, Seq2SeqGenerator? Generator, Microsoft.Extensions.AI.IChatClient? ChatClient, IPassageStore Store);
}
