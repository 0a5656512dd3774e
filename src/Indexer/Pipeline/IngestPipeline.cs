using System.Diagnostics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.Tokenizers;
using T5Gemma2.Rag.Encoder.Embeddings;
using T5Gemma2.Rag.Indexer.Chunking;
using T5Gemma2.Rag.Indexer.Documents;
using T5Gemma2.Rag.Indexer.Loading;
using T5Gemma2.Rag.Indexer.Stores;

namespace T5Gemma2.Rag.Indexer.Pipeline;

/// <summary>
/// Indexes documents into a collection in streaming stages — load and chunk, embed, write — joined by bounded
/// queues, so memory stays flat however large the corpus.
/// </summary>
/// <remarks>
/// <para>The parts: the walk and the loading of files (<see cref="FileStage"/>), change detection and chunking
/// (<see cref="PassageCutter"/>), one run's stages and counters (<see cref="IngestRun"/>, <see cref="EmbeddingStage"/>).</para>
/// <para>Incremental: a document whose text, structure, tags and chunk settings hash as before is skipped without
/// embedding; a changed one is replaced whole, reusing the stored vectors of passages whose ids (document, index,
/// content) did not change.</para>
/// <para>Crash-safe: each write is one store transaction of whole documents, and a document's record (with its hash)
/// is written with its passages, so a run killed at any point and run again ends as a clean run would.</para>
/// <para>One run at a time per instance.</para>
/// <para>Bad input: a file that fails to load, or a batch that fails to embed, is reported with its reason and the run
/// goes on; a store that cannot be written stops the run (nothing more could be saved).</para>
/// </remarks>
public sealed class IngestPipeline
{
    private readonly IEmbeddingGenerator<string, Embedding<float>> _embedder;
    private readonly IEmbeddingGenerator<DataContent, Embedding<float>>? _imageEmbedder;
    private readonly IPassageCollection _collection;
    private readonly IngestOptions _options;
    private readonly PassageCutter _cutter;
    private readonly FileStage _files;
    private readonly ILogger _logger;
    private volatile IngestRun? _run;

    /// <param name="embedder">Embeds passages (asked for passage embeddings).</param>
    /// <param name="tokenizer">The embedding model's tokenizer: chunk budgets are in its tokens.</param>
    /// <param name="maxInputTokens">The embedding model's input length, special tokens included.</param>
    /// <param name="collection">Where passages go.</param>
    /// <param name="options">Chunking, tags, walk and queue settings.</param>
    /// <param name="loggerFactory">For a warning per file not indexed and one per run with skipped records (debug: unsupported files, each record).</param>
    /// <param name="imageEmbedder">Embeds image passages in the text passages' space; null for a model that takes no images (images are then left out, and counted).</param>
    public IngestPipeline(IEmbeddingGenerator<string, Embedding<float>> embedder, Tokenizer tokenizer, int maxInputTokens, IPassageCollection collection, IngestOptions? options = null, ILoggerFactory? loggerFactory = null, IEmbeddingGenerator<DataContent, Embedding<float>>? imageEmbedder = null)
    {
        ArgumentNullException.ThrowIfNull(embedder);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(collection);
        this._embedder = embedder;
        this._imageEmbedder = imageEmbedder;
        this._collection = collection;
        this._logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<IngestPipeline>();
        this._options = options ?? new IngestOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(this._options.EmbeddingBatchPassages, 1, "options.EmbeddingBatchPassages");
        ArgumentOutOfRangeException.ThrowIfLessThan(this._options.QueueDocuments, 1, "options.QueueDocuments");
        this._cutter = new PassageCutter(tokenizer, maxInputTokens, this._options, indexImages: imageEmbedder is not null);
        var json = this._options.JsonRecords;
        var loaders = DocumentLoaders.CreateDefault(new JsonRecordLoaderOptions
        {
            TextField = json.TextField,
            IdField = json.IdField,
            TitleField = json.TitleField,
            QualifyIds = json.QualifyIds,
            MaxRecordBytes = json.MaxRecordBytes,
            RecordSkipped = record =>
            {
                this._run?.Skip(record);
                json.RecordSkipped?.Invoke(record);
            },
        });
        this._files = new FileStage(loaders, this._options.Walk, this._logger);
    }

    /// <summary>The chunk settings in use.</summary>
    public ChunkingOptions Chunking => this._cutter.Chunking;

    /// <summary>A pipeline for an ONNX embedding model, with its tokenizer and input length; it embeds image passages too when the model has a vision graph.</summary>
    public static IngestPipeline Create(OnnxEmbeddingGenerator generator, IPassageCollection collection, IngestOptions? options = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(generator);
        return new IngestPipeline(generator, generator.Tokenizer, generator.MaxLength, collection, options, loggerFactory, generator.Model.Vision is null ? null : generator);
    }

    /// <summary>Indexes the files at these paths (files, or directories walked with <see cref="IngestOptions.Walk"/>).</summary>
    public Task<IngestSummary> IndexFilesAsync(IReadOnlyList<string> paths, IProgress<IngestProgress>? progress = null, CancellationToken cancellationToken = default) =>
        this.IndexFilesAsync(paths, roots: null, progress, cancellationToken);

    /// <summary>
    /// Indexes the files at these paths, reading nothing whose real path is outside <paramref name="roots"/> (each such
    /// path is a failure that says only <see cref="AllowedFolders.Outside"/>); for paths that come from a model or an agent.
    /// </summary>
    public async Task<IngestSummary> IndexFilesAsync(IReadOnlyList<string> paths, AllowedFolders? roots, IProgress<IngestProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var summary = new IngestSummary();
        var (files, failedSources) = this._files.Walk(paths, roots, summary, cancellationToken);
        var run = this.NewRun(summary, progress, files.Count);
        await this.ExecuteAsync(run, ct => this._files.LoadAsync(files, run, failedSources, ct), cancellationToken).ConfigureAwait(false);
        if (this._options.Prune)
        {
            await FileStage.PruneAsync(this._collection, paths, run, failedSources, cancellationToken).ConfigureAwait(false);
        }

        summary.Elapsed = run.Elapsed;
        return summary;
    }

    /// <summary>
    /// Indexes these files as they are given, no walk and no pruning: each read from its <see cref="DocumentFile.FullPath"/>
    /// and known by its <see cref="DocumentFile.Source"/> (an upload staged under a generated name keeps the name its
    /// sender gave), every passage carrying <paramref name="tags"/> (null: <see cref="IngestOptions.Tags"/>). A file
    /// that fails is a failure under its source; the same source with the same content again is unchanged.
    /// </summary>
    public async Task<IngestSummary> IndexFilesAsync(IReadOnlyList<DocumentFile> files, IReadOnlyDictionary<string, string>? tags, IProgress<IngestProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(files);
        var summary = new IngestSummary { FilesFound = files.Count };
        var run = this.NewRun(summary, progress, files.Count, tags);
        await this.ExecuteAsync(run, ct => this._files.LoadAsync([.. files], run, [], ct), cancellationToken).ConfigureAwait(false);
        summary.Elapsed = run.Elapsed;
        return summary;
    }

    /// <summary>Indexes documents that come from elsewhere (a dataset, an API); their ids must be unique.</summary>
    public async Task<IngestSummary> IndexDocumentsAsync(IAsyncEnumerable<LoadedDocument> documents, IProgress<IngestProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documents);
        var summary = new IngestSummary();
        var run = this.NewRun(summary, progress, 0);
        await this.ExecuteAsync(run, async ct =>
        {
            var started = Stopwatch.GetTimestamp();
            await foreach (var document in documents.WithCancellation(ct).ConfigureAwait(false))
            {
                summary.LoadTime += Stopwatch.GetElapsedTime(started);
                await run.PrepareAsync(document, document.Source, ct).ConfigureAwait(false);
                started = Stopwatch.GetTimestamp();
            }
        }, cancellationToken).ConfigureAwait(false);
        summary.Elapsed = run.Elapsed;
        return summary;
    }

    private IngestRun NewRun(IngestSummary summary, IProgress<IngestProgress>? progress, int filesTotal, IReadOnlyDictionary<string, string>? tags = null) =>
        new(this._embedder, this._imageEmbedder, this._collection, tags is null ? this._cutter : this._cutter.WithTags(tags), this._options, this._logger, summary, progress, filesTotal);

    /// <summary>Runs <paramref name="run"/> as the current one, so records the loaders skip are counted into it.</summary>
    private async Task ExecuteAsync(IngestRun run, Func<CancellationToken, Task> produce, CancellationToken cancellationToken)
    {
        this._run = run;
        await run.ExecuteAsync(produce, cancellationToken).ConfigureAwait(false);
        this._run = null;
    }
}
