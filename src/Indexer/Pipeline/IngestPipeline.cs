using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
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
    private readonly DocumentChunker _chunker;
    private readonly IPassageCollection _collection;
    private readonly IngestOptions _options;
    private readonly DocumentLoaders _loaders;
    private readonly string _signature;
    private readonly ILogger _logger;
    private volatile Run? _run;

    /// <param name="embedder">Embeds passages (asked for passage embeddings).</param>
    /// <param name="tokenizer">The embedding model's tokenizer: chunk budgets are in its tokens.</param>
    /// <param name="maxInputTokens">The embedding model's input length, special tokens included.</param>
    /// <param name="collection">Where passages go.</param>
    /// <param name="options">Chunking, tags, walk and queue settings.</param>
    /// <param name="loggerFactory">For a warning per file not indexed and one per run with skipped records (debug: unsupported files, each record).</param>
    public IngestPipeline(IEmbeddingGenerator<string, Embedding<float>> embedder, Tokenizer tokenizer, int maxInputTokens, IPassageCollection collection, IngestOptions? options = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(embedder);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(collection);
        this._embedder = embedder;
        this._collection = collection;
        this._logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<IngestPipeline>();
        this._options = options ?? new IngestOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(this._options.EmbeddingBatchPassages, 1, "options.EmbeddingBatchPassages");
        ArgumentOutOfRangeException.ThrowIfLessThan(this._options.QueueDocuments, 1, "options.QueueDocuments");
        var chunking = this._options.Chunking ?? ChunkingOptions.ForModel(Math.Max(maxInputTokens - IngestOptions.HeadingReserveTokens, ChunkingOptions.MinMaxTokens + 2));
        this._chunker = new DocumentChunker(tokenizer, chunking);
        var json = this._options.JsonRecords;
        this._loaders = DocumentLoaders.CreateDefault(new JsonRecordLoaderOptions
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
        this._signature = string.Create(CultureInfo.InvariantCulture, $"v1;chunk={this._options.ChunkDocuments};max={chunking.MaxTokens};overlap={chunking.OverlapTokens};tags={JsonSerializer.Serialize(this._options.Tags.OrderBy(t => t.Key, StringComparer.Ordinal))}");
    }

    /// <summary>The chunk settings in use.</summary>
    public ChunkingOptions Chunking => this._chunker.Options;

    /// <summary>A pipeline for an ONNX embedding model, with its tokenizer and input length.</summary>
    public static IngestPipeline Create(OnnxEmbeddingGenerator generator, IPassageCollection collection, IngestOptions? options = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(generator);
        return new IngestPipeline(generator, generator.Tokenizer, generator.MaxLength, collection, options, loggerFactory);
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
        var entries = new DirectoryWalker(this._loaders, this._options.Walk, roots).Walk(paths, cancellationToken).ToList();
        var files = entries.Where(e => e.IsFile).Select(e => e.File!).ToList();
        summary.FilesFound = files.Count;
        summary.UnsupportedFiles = entries.Count(e => e.Kind == WalkEntryKind.Unsupported);
        summary.LinksNotFollowed = entries.Count(e => e.Kind == WalkEntryKind.LinkNotFollowed);
        foreach (var problem in entries.Where(e => e.IsProblem))
        {
            summary.Failures.Add((problem.Path, problem.Reason!));
            this._logger.NotIndexed(problem.Path, problem.Reason!);
        }

        foreach (var unsupported in entries.Where(e => e.Kind == WalkEntryKind.Unsupported))
        {
            this._logger.Unsupported(unsupported.Path);
        }

        var failedSources = new HashSet<string>(summary.Failures.Select(f => PassageIds.ForFile(Path.GetFullPath(f.Path))), StringComparer.Ordinal);
        var run = new Run(this, summary, progress, files.Count);
        await run.ExecuteAsync(ct => this.LoadFilesAsync(files, run, failedSources, ct), cancellationToken).ConfigureAwait(false);

        if (this._options.Prune)
        {
            var indexed = paths.Select(p => PassageIds.ForFile(Path.GetFullPath(p))).ToList();
            var documents = await this._collection.GetDocumentsAsync(cancellationToken).ConfigureAwait(false);
            var gone = documents.Values
                .Where(d => !run.Seen.Contains(d.DocumentId) && !failedSources.Contains(PassageIds.ForFile(d.Source))
                    && indexed.Any(r => PassageIds.ForFile(d.Source) == r || PassageIds.ForFile(d.Source).StartsWith(r.TrimEnd('/') + "/", StringComparison.Ordinal)))
                .ToList();
            if (gone.Count > 0)
            {
                var started = Stopwatch.GetTimestamp();
                summary.DocumentsPruned = await this._collection.DeleteDocumentsAsync([.. gone.Select(d => d.DocumentId)], cancellationToken).ConfigureAwait(false);
                summary.PassagesRemoved += gone.Sum(d => (long)d.PassageCount);
                summary.WriteTime += Stopwatch.GetElapsedTime(started);
            }
        }

        summary.Elapsed = run.Elapsed;
        return summary;
    }

    /// <summary>Indexes documents that come from elsewhere (a dataset, an API); their ids must be unique.</summary>
    public async Task<IngestSummary> IndexDocumentsAsync(IAsyncEnumerable<LoadedDocument> documents, IProgress<IngestProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documents);
        var summary = new IngestSummary();
        var run = new Run(this, summary, progress, 0);
        await run.ExecuteAsync(async ct =>
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

    private async Task LoadFilesAsync(List<DocumentFile> files, Run run, HashSet<string> failedSources, CancellationToken cancellationToken)
    {
        var summary = run.Summary;
        foreach (var file in files)
        {
            var loader = this._loaders.ForFile(file.FullPath);
            var started = Stopwatch.GetTimestamp();
            try
            {
                if (loader is null)
                {
                    throw new DocumentLoadException(file.FullPath, $"no loader reads '{Path.GetExtension(file.FullPath)}' files; expected one of {string.Join(", ", this._loaders.Extensions)}.");
                }

                await foreach (var document in loader.LoadAsync(file, cancellationToken).ConfigureAwait(false))
                {
                    summary.LoadTime += Stopwatch.GetElapsedTime(started);
                    await run.PrepareAsync(document, file.FullPath, cancellationToken).ConfigureAwait(false);
                    started = Stopwatch.GetTimestamp();
                }

                summary.LoadTime += Stopwatch.GetElapsedTime(started);
            }
            catch (DocumentLoadException ex)
            {
                run.Fail(file.FullPath, ex.Reason);
                failedSources.Add(PassageIds.ForFile(file.FullPath));
            }
            catch (Exception ex) when (ex is not OperationCanceledException and not StoreException)
            {
                run.Fail(file.FullPath, $"cannot be read ({ex.GetType().Name}: {ex.Message.Split('\n')[0]})");
                failedSources.Add(PassageIds.ForFile(file.FullPath));
            }

            summary.FilesRead++;
            run.Report();
        }
    }

    private string DocumentHash(LoadedDocument document)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string? s) => hash.AppendData(Encoding.UTF8.GetBytes((s ?? "\u0000") + "\u001f"));
        Add(this._signature);
        Add(document.Source);
        Add(document.Title);
        foreach (var section in document.Sections)
        {
            Add(string.Create(CultureInfo.InvariantCulture, $"{section.Start},{section.Length},{section.Page},{section.HeadingPath}"));
        }

        Add(document.Text);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private List<Passage> Cut(LoadedDocument document, DateTimeOffset indexedAt)
    {
        IReadOnlyList<TextChunk> chunks;
        if (this._options.ChunkDocuments)
        {
            chunks = this._chunker.Chunk(document);
        }
        else
        {
            string text = document.Text.Trim();
            int start = document.Text.IndexOf(text, StringComparison.Ordinal);
            chunks = text.Length == 0 ? [] : [new TextChunk(start, text.Length, null, document.Sections.Count > 0 ? document.Sections[0].Page : null, this._chunker.CountTokens(text), 0)];
        }

        return [.. chunks.Select(chunk =>
        {
            string text = chunk.GetText(document.Text);
            string hash = PassageIds.ContentHash(text);
            return new Passage
            {
                Id = PassageIds.Create(document.DocumentId, chunk.Index, hash),
                DocumentId = document.DocumentId,
                Source = document.Source,
                Title = document.Title,
                SectionPath = chunk.HeadingPath,
                Page = chunk.Page,
                Start = chunk.Start,
                Length = chunk.Length,
                ChunkIndex = chunk.Index,
                Text = text,
                ContentHash = hash,
                TokenCount = chunk.TokenCount,
                Tags = this._options.Tags,
                IndexedAt = indexedAt,
            };
        })];
    }

    /// <summary>The embedding input: title and section path above the text, so a passage carries its context.</summary>
    private static string EmbeddingInput(Passage passage)
    {
        var builder = new StringBuilder();
        if (!string.IsNullOrWhiteSpace(passage.Title))
        {
            builder.Append(passage.Title).Append('\n');
        }

        if (!string.IsNullOrWhiteSpace(passage.SectionPath) && passage.SectionPath != passage.Title)
        {
            builder.Append(passage.SectionPath).Append('\n');
        }

        return builder.Append(passage.Text).ToString();
    }

    private sealed record PreparedDocument(DocumentRecord Record, List<Passage> Passages, string Origin, DocumentRecord? Previous)
    {
        /// <summary>Ids of passages whose stored vectors were reused (set when embedded).</summary>
        public HashSet<string> ReusedIds { get; } = new(StringComparer.Ordinal);
    }

    /// <summary>One run's queues, counters and stages.</summary>
    private sealed class Run
    {
        private readonly IngestPipeline _pipeline;
        private readonly IProgress<IngestProgress>? _progress;
        private readonly int _filesTotal;
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly DateTimeOffset _indexedAt = DateTimeOffset.UtcNow;
        private readonly Lock _gate = new();
        private readonly Channel<PreparedDocument> _prepared;
        private readonly Channel<(List<DocumentUpdate> Updates, List<PreparedDocument> Documents)> _embedded;
        private IReadOnlyDictionary<string, DocumentRecord> _existing = new Dictionary<string, DocumentRecord>();
        private long _documentsWritten;
        private long _passagesEmbedded;
        private long _tokensEmbedded;

        public Run(IngestPipeline pipeline, IngestSummary summary, IProgress<IngestProgress>? progress, int filesTotal)
        {
            this._pipeline = pipeline;
            this.Summary = summary;
            this._progress = progress;
            this._filesTotal = filesTotal;
            this._prepared = Channel.CreateBounded<PreparedDocument>(new BoundedChannelOptions(pipeline._options.QueueDocuments) { SingleReader = true, SingleWriter = true });
            this._embedded = Channel.CreateBounded<(List<DocumentUpdate>, List<PreparedDocument>)>(new BoundedChannelOptions(2) { SingleReader = true, SingleWriter = true });
        }

        public IngestSummary Summary { get; }

        /// <summary>Every document id met in this run (unchanged ones too): what pruning keeps.</summary>
        public HashSet<string> Seen { get; } = new(StringComparer.Ordinal);

        public TimeSpan Elapsed => this._clock.Elapsed;

        public async Task ExecuteAsync(Func<CancellationToken, Task> produce, CancellationToken cancellationToken)
        {
            this._existing = await this._pipeline._collection.GetDocumentsAsync(cancellationToken).ConfigureAwait(false);
            this._pipeline._run = this;
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var token = linked.Token;
            var producer = Task.Run(async () =>
            {
                try
                {
                    await produce(token).ConfigureAwait(false);
                }
                finally
                {
                    this._prepared.Writer.TryComplete();
                }
            }, token);
            var embedder = Task.Run(() => this.EmbedAsync(token), token);
            var writer = Task.Run(() => this.WriteAsync(token), token);

            // The first stage to fail stops the others, and its exception is the one that surfaces.
            var stages = new List<Task> { producer, embedder, writer };
            while (stages.Count > 0)
            {
                var done = await Task.WhenAny(stages).ConfigureAwait(false);
                stages.Remove(done);
                if (done.IsFaulted || done.IsCanceled)
                {
                    await linked.CancelAsync().ConfigureAwait(false);
                    try
                    {
                        await Task.WhenAll(stages).ConfigureAwait(false);
                    }
                    catch (Exception) when (done.IsFaulted || cancellationToken.IsCancellationRequested)
                    {
                        // The first failure is the one to report.
                    }

                    await done.ConfigureAwait(false);
                }
            }

            this._pipeline._run = null;
            this.Summary.Elapsed = this._clock.Elapsed;
            this.Report();
            var logger = this._pipeline._logger;
            if (this.Summary.SkippedRecords.Count > 0)
            {
                logger.RecordsSkipped(this.Summary.SkippedRecords.Count, this.Summary.SkippedRecords[0]);
            }

            logger.RunFinished(this.Summary.DocumentsNew, this.Summary.DocumentsChanged, this.Summary.DocumentsUnchanged, this.Summary.PassagesNew, this.Summary.PassagesReused, this.Summary.Failures.Count, this.Summary.Elapsed.TotalSeconds);
        }

        public void Skip(SkippedRecord record)
        {
            lock (this._gate)
            {
                this.Summary.SkippedRecords.Add(record.ToString());
            }

            this._pipeline._logger.RecordSkipped(record.ToString());
        }

        public void Fail(string path, string reason)
        {
            lock (this._gate)
            {
                this.Summary.Failures.Add((path, reason));
            }

            this._pipeline._logger.NotIndexed(path, reason);
        }

        public void Report() => this._progress?.Report(new IngestProgress(
            this._filesTotal, this.Summary.FilesRead, Interlocked.Read(ref this._documentsWritten), Interlocked.Read(ref this._passagesEmbedded), Interlocked.Read(ref this._tokensEmbedded), this._clock.Elapsed));

        /// <summary>Skips an unchanged document, or chunks a new or changed one and queues it for embedding.</summary>
        public async Task PrepareAsync(LoadedDocument document, string origin, CancellationToken cancellationToken)
        {
            if (!this.Seen.Add(document.DocumentId))
            {
                this.Fail(origin, $"document id '{document.DocumentId}' occurs twice in this run; expected unique ids (the first was indexed)");
                return;
            }

            lock (this._gate)
            {
                this.Summary.ReplacedCharacters += document.ReplacedCharacters;
            }

            string hash = this._pipeline.DocumentHash(document);
            this._existing.TryGetValue(document.DocumentId, out var previous);
            if (previous is not null && previous.ContentHash == hash)
            {
                this.Summary.DocumentsUnchanged++;
                this.Summary.PassagesUnchanged += previous.PassageCount;
                return;
            }

            var started = Stopwatch.GetTimestamp();
            var passages = this._pipeline.Cut(document, this._indexedAt);
            this.Summary.ChunkTime += Stopwatch.GetElapsedTime(started);
            if (passages.Count == 0)
            {
                this.Summary.DocumentsEmpty++;
            }

            var record = new DocumentRecord(document.DocumentId, document.Source, hash, passages.Count, this._indexedAt);
            await this._prepared.Writer.WriteAsync(new PreparedDocument(record, passages, origin, previous), cancellationToken).ConfigureAwait(false);
        }

        private async Task EmbedAsync(CancellationToken cancellationToken)
        {
            try
            {
                var batch = new List<PreparedDocument>();
                int passages = 0;
                var reader = this._prepared.Reader;
                while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    while (reader.TryRead(out var document))
                    {
                        batch.Add(document);
                        passages += document.Passages.Count;
                        if (passages >= this._pipeline._options.EmbeddingBatchPassages)
                        {
                            await this.FlushAsync(batch, cancellationToken).ConfigureAwait(false);
                            batch = [];
                            passages = 0;
                        }
                    }

                    // Nothing more waiting: embed what there is rather than hold documents back.
                    if (batch.Count > 0)
                    {
                        await this.FlushAsync(batch, cancellationToken).ConfigureAwait(false);
                        batch = [];
                        passages = 0;
                    }
                }
            }
            finally
            {
                this._embedded.Writer.TryComplete();
            }
        }

        private async Task FlushAsync(List<PreparedDocument> batch, CancellationToken cancellationToken)
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                // Passages a changed document already had (same document, index and text) keep their stored vectors.
                var known = batch.Where(d => d.Previous is not null).SelectMany(d => d.Passages).Select(p => p.Id).ToList();
                var reused = known.Count == 0
                    ? new Dictionary<string, float[]>()
                    : await this._pipeline._collection.GetVectorsAsync(known, cancellationToken).ConfigureAwait(false);
                var toEmbed = batch.SelectMany(d => d.Passages).Where(p => !reused.ContainsKey(p.Id)).ToList();
                foreach (var document in batch.Where(d => d.Previous is not null))
                {
                    document.ReusedIds.UnionWith(document.Passages.Select(p => p.Id).Where(reused.ContainsKey));
                }

                var vectors = new Dictionary<string, ReadOnlyMemory<float>>(StringComparer.Ordinal);
                if (toEmbed.Count > 0)
                {
                    var options = new EmbeddingGenerationOptions().WithInputKind(EmbeddingInputKind.Passage);
                    var embeddings = await this._pipeline._embedder.GenerateAsync([.. toEmbed.Select(EmbeddingInput)], options, cancellationToken).ConfigureAwait(false);
                    for (int i = 0; i < toEmbed.Count; i++)
                    {
                        vectors[toEmbed[i].Id] = embeddings[i].Vector;
                    }
                }

                var updates = batch.Select(d => new DocumentUpdate(
                    d.Record,
                    [.. d.Passages.Select(p => new StoredPassage(p, vectors.TryGetValue(p.Id, out var v) ? v : reused[p.Id]))])).ToList();
                lock (this._gate)
                {
                    this.Summary.PassagesNew += toEmbed.Count;
                    this.Summary.PassagesReused += reused.Count;
                    this.Summary.TokensEmbedded += toEmbed.Sum(p => (long)p.TokenCount);
                    this.Summary.EmbedTime += Stopwatch.GetElapsedTime(started);
                }

                Interlocked.Add(ref this._passagesEmbedded, toEmbed.Count);
                Interlocked.Add(ref this._tokensEmbedded, toEmbed.Sum(p => (long)p.TokenCount));
                await this._embedded.Writer.WriteAsync((updates, batch), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException and not StoreException)
            {
                // One bad batch must not end the run: its documents are reported and left as they were.
                foreach (var document in batch)
                {
                    this.Fail(document.Origin, $"document '{document.Record.DocumentId}' could not be embedded ({ex.GetType().Name}: {ex.Message.Split('\n')[0]})");
                }
            }
        }

        private async Task WriteAsync(CancellationToken cancellationToken)
        {
            await foreach (var (updates, documents) in this._embedded.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                var started = Stopwatch.GetTimestamp();
                await this._pipeline._collection.UpsertDocumentsAsync(updates, cancellationToken).ConfigureAwait(false);
                lock (this._gate)
                {
                    this.Summary.WriteTime += Stopwatch.GetElapsedTime(started);
                    foreach (var document in documents)
                    {
                        if (document.Previous is null)
                        {
                            this.Summary.DocumentsNew++;
                        }
                        else
                        {
                            this.Summary.DocumentsChanged++;
                            this.Summary.PassagesRemoved += document.Previous.PassageCount - document.Passages.Count(p => document.ReusedIds.Contains(p.Id));
                        }
                    }
                }

                Interlocked.Add(ref this._documentsWritten, documents.Count);
                this.Report();
            }
        }

    }
}
