using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using T5Gemma2.Rag.Encoder;
using T5Gemma2.Rag.Indexer.Documents;
using T5Gemma2.Rag.Indexer.Loading;
using T5Gemma2.Rag.Indexer.Stores;

namespace T5Gemma2.Rag.Indexer.Pipeline;

/// <summary>
/// One run of <see cref="IngestPipeline"/>: its three stages (prepare: skip unchanged documents, cut changed ones;
/// embed: <see cref="EmbeddingStage"/>; write) joined by bounded queues, its counters, and its summary.
/// </summary>
internal sealed class IngestRun
{
    // Counted as each write commits, so a run that fails part way counts what it did store.
    private static readonly Counter<long> s_passagesIndexed = T5RagTelemetry.Meter.CreateCounter<long>("t5rag.ingest.passages", "{passage}", "Passages written to a collection by ingestion (new or changed documents' passages, reused vectors included)");

    private readonly IPassageCollection _collection;
    private readonly PassageCutter _cutter;
    private readonly ILogger _logger;
    private readonly IProgress<IngestProgress>? _progress;
    private readonly int _filesTotal;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly DateTimeOffset _indexedAt = DateTimeOffset.UtcNow;
    private readonly Lock _gate = new();
    private readonly Channel<PreparedDocument> _prepared;
    private readonly Channel<(List<DocumentUpdate> Updates, List<PreparedDocument> Documents)> _embedded;
    private readonly EmbeddingStage _embedding;
    private IReadOnlyDictionary<string, DocumentRecord> _existing = new Dictionary<string, DocumentRecord>();
    private long _documentsWritten;
    private long _passagesEmbedded;
    private long _tokensEmbedded;
    private long _imagesEmbedded;

    public IngestRun(IEmbeddingGenerator<string, Embedding<float>> embedder, IEmbeddingGenerator<DataContent, Embedding<float>>? imageEmbedder, IPassageCollection collection, PassageCutter cutter, IngestOptions options, ILogger logger, IngestSummary summary, IProgress<IngestProgress>? progress, int filesTotal)
    {
        this._collection = collection;
        this._cutter = cutter;
        this._logger = logger;
        this.Summary = summary;
        this._progress = progress;
        this._filesTotal = filesTotal;
        this._prepared = Channel.CreateBounded<PreparedDocument>(new BoundedChannelOptions(options.QueueDocuments) { SingleReader = true, SingleWriter = true });
        this._embedded = Channel.CreateBounded<(List<DocumentUpdate>, List<PreparedDocument>)>(new BoundedChannelOptions(2) { SingleReader = true, SingleWriter = true });
        this._embedding = new EmbeddingStage(this, embedder, imageEmbedder, collection, options.EmbeddingBatchPassages);
    }

    public IngestSummary Summary { get; }

    /// <summary>Every document id met in this run (unchanged ones too): what pruning keeps.</summary>
    public HashSet<string> Seen { get; } = new(StringComparer.Ordinal);

    public TimeSpan Elapsed => this._clock.Elapsed;

    /// <summary>Runs <paramref name="produce"/> (which calls <see cref="PrepareAsync"/> per document) beside the embed and write stages, until all three finish.</summary>
    public async Task ExecuteAsync(Func<CancellationToken, Task> produce, CancellationToken cancellationToken)
    {
        using var activity = T5RagTelemetry.Source.StartActivity("ingest");
        activity?.SetTag(T5RagTelemetry.CollectionTag, this._collection.Name);
        this._existing = await this._collection.GetDocumentsAsync(cancellationToken).ConfigureAwait(false);
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
        var embedder = Task.Run(() => this._embedding.RunAsync(this._prepared.Reader, this._embedded.Writer, token), token);
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

        this.Summary.Elapsed = this._clock.Elapsed;
        this.Report();
        activity?.SetTag("t5rag.ingest.documents", this.Summary.DocumentsNew + this.Summary.DocumentsChanged).SetTag("t5rag.ingest.passages", this.Summary.PassagesNew + this.Summary.PassagesReused);
        if (this.Summary.SkippedRecords.Count > 0)
        {
            this._logger.RecordsSkipped(this.Summary.SkippedRecords.Count, this.Summary.SkippedRecords[0]);
        }

        this._logger.RunFinished(this.Summary.DocumentsNew, this.Summary.DocumentsChanged, this.Summary.DocumentsUnchanged, this.Summary.PassagesNew, this.Summary.PassagesReused, this.Summary.Failures.Count, this.Summary.Elapsed.TotalSeconds);
    }

    public void Skip(SkippedRecord record)
    {
        lock (this._gate)
        {
            this.Summary.SkippedRecords.Add(record.ToString());
        }

        this._logger.RecordSkipped(record.ToString());
    }

    public void Fail(string path, string reason)
    {
        lock (this._gate)
        {
            this.Summary.Failures.Add((path, reason));
        }

        this._logger.NotIndexed(path, reason);
    }

    public void Report() => this._progress?.Report(new IngestProgress(
        this._filesTotal, this.Summary.FilesRead, Interlocked.Read(ref this._documentsWritten), Interlocked.Read(ref this._passagesEmbedded), Interlocked.Read(ref this._tokensEmbedded), this._clock.Elapsed, Interlocked.Read(ref this._imagesEmbedded)));

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
            this.Summary.ImagesSkipped += document.SkippedImages;
            this.Summary.ImagesNotEmbedded += this._cutter.IndexesImages ? 0 : document.Images.Count;
        }

        // A broken image is its own fault; the rest of the document is indexed.
        foreach (string problem in document.ImageProblems)
        {
            this.Fail(origin, problem);
        }

        string hash = this._cutter.Hash(document);
        this._existing.TryGetValue(document.DocumentId, out var previous);
        if (previous is not null && previous.ContentHash == hash)
        {
            this.Summary.DocumentsUnchanged++;
            this.Summary.PassagesUnchanged += previous.PassageCount;
            return;
        }

        var started = Stopwatch.GetTimestamp();
        var passages = this._cutter.Cut(document, this._indexedAt);
        this.Summary.ChunkTime += Stopwatch.GetElapsedTime(started);
        if (passages.Count == 0)
        {
            this.Summary.DocumentsEmpty++;
        }

        var record = new DocumentRecord(document.DocumentId, document.Source, hash, passages.Count, this._indexedAt);
        await this._prepared.Writer.WriteAsync(new PreparedDocument(record, passages, origin, previous), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Counts a batch the embedding stage finished: passages embedded (<paramref name="images"/> of them image passages) and reused, tokens, and its time.</summary>
    public void CountEmbedded(int embedded, int reused, long tokens, TimeSpan elapsed, int images = 0)
    {
        lock (this._gate)
        {
            this.Summary.PassagesNew += embedded;
            this.Summary.ImagePassagesNew += images;
            this.Summary.PassagesReused += reused;
            this.Summary.TokensEmbedded += tokens;
            this.Summary.EmbedTime += elapsed;
        }

        Interlocked.Add(ref this._passagesEmbedded, embedded);
        Interlocked.Add(ref this._tokensEmbedded, tokens);
        Interlocked.Add(ref this._imagesEmbedded, images);
    }

    private async Task WriteAsync(CancellationToken cancellationToken)
    {
        await foreach (var (updates, documents) in this._embedded.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            var started = Stopwatch.GetTimestamp();
            await this._collection.UpsertDocumentsAsync(updates, cancellationToken).ConfigureAwait(false);
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
            if (s_passagesIndexed.Enabled)
            {
                s_passagesIndexed.Add(documents.Sum(d => d.Passages.Count), new KeyValuePair<string, object?>(T5RagTelemetry.CollectionTag, this._collection.Name));
            }

            this.Report();
        }
    }
}
