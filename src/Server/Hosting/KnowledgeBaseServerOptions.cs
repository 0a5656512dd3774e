using T5Gemma2.Rag.Encoder.Onnx;
using T5Gemma2.Rag.Indexer.Stores;

using T5Gemma2.Rag.Server.Answering;

namespace T5Gemma2.Rag.Server.Hosting;

/// <summary>
/// What <c>t5rag serve</c> serves: the store, the models, where the service database lives, and the limits every
/// caller meets. Bound from the configuration section <see cref="SectionName"/> (so a test host or an environment
/// variable <c>T5Rag__Store</c> can set it) or built by the CLI from its flags and settings.
/// </summary>
public sealed class KnowledgeBaseServerOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "T5Rag";

    /// <summary>A store directory (the embedded store) or a Qdrant URL, as <c>--store</c> takes it.</summary>
    public string Store { get; set; } = ".t5rag";

    /// <summary>The Qdrant API key, when the store is a Qdrant server that needs one (else the URL's or QDRANT_API_KEY).</summary>
    public string? QdrantApiKey { get; set; }

    /// <summary>The embedding model directory every collection of this server is indexed with; required.</summary>
    public string? EmbeddingModelDirectory { get; set; }

    /// <summary>A T5Gemma 2 encoder-decoder conversion that answers ask and chat completions; null: search only.</summary>
    public string? GeneratorModelDirectory { get; set; }

    /// <summary>
    /// Which chat model answers (<see cref="AnswererSpec"/>): <c>t5gemma2</c>, <c>openai:&lt;base url&gt;?model=&lt;id&gt;</c>
    /// or <c>ollama:&lt;url&gt;?model=&lt;id&gt;</c>; null: the generator when there is one, else none (search only).
    /// </summary>
    public string? Answerer { get; set; }

    /// <summary>The OpenAI-compatible answerer's key; null: the <c>OPENAI_API_KEY</c> environment variable.</summary>
    public string? AnswererApiKey { get; set; }

    /// <summary>The answerer <see cref="Answerer"/> and <see cref="GeneratorModelDirectory"/> make, or null for none.</summary>
    public AnswererSpec? ResolveAnswerer() => AnswererSpec.Resolve(this.Answerer, this.GeneratorModelDirectory is not null);

    /// <summary>
    /// The service database (API keys, ingestion jobs, staged uploads beside it in <c>.uploads/</c>): by default
    /// <c>service.db</c> in the store directory, or <c>.t5rag/service.db</c> for a Qdrant store. Replicas behind one load
    /// balancer share it (a shared volume); only the ingesting replica writes jobs.
    /// </summary>
    public string? ServiceDatabase { get; set; }

    /// <summary>False serves reads only (search, ask, embeddings, chat): uploads, deletes and collection changes are refused with 503.</summary>
    public bool Ingest { get; set; } = true;

    /// <summary>The collections' vector length, a Matryoshka cut of the embedding model's (null: the model's own).</summary>
    public int? Dimensions { get; set; }

    /// <summary>How the models run: ONNX Runtime threads (every core by default) and device.</summary>
    public OnnxSessionOptions Session { get; set; } = OnnxSessionOptions.Default;

    /// <summary>The largest JSON request body, in bytes (1 MiB).</summary>
    public long MaxRequestBytes { get; set; } = 1L << 20;

    /// <summary>The largest upload (all files of one request together), in bytes (256 MiB).</summary>
    public long MaxUploadBytes { get; set; } = 256L << 20;

    /// <summary>Ingestion jobs waiting at most; an upload past this gets 503 with Retry-After.</summary>
    public int MaxQueuedJobs { get; set; } = 64;

    /// <summary>Requests one API key may make per second, sustained (a token bucket); past it, 429 with Retry-After.</summary>
    public int RequestsPerSecondPerKey { get; set; } = 200;

    /// <summary>Requests one API key may make in a burst above the sustained rate.</summary>
    public int BurstPerKey { get; set; } = 400;

    /// <summary>An ask or chat completion stops generating after this and returns what it has, marked as timed out.</summary>
    public TimeSpan AskTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>The most passages one search or ask may ask for.</summary>
    public int MaxTop { get; set; } = 100;

    /// <summary>The service database's path: <see cref="ServiceDatabase"/>, else beside the store.</summary>
    public string ResolveServiceDatabase() =>
        this.ServiceDatabase is { Length: > 0 } given ? Path.GetFullPath(given)
        : Path.GetFullPath(Path.Combine(PassageStores.IsServer(this.Store) ? ".t5rag" : this.Store, "service.db"));

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first option that cannot work.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(this.EmbeddingModelDirectory))
        {
            throw new ArgumentException("no embedding model: give --model <dir> (T5Rag:EmbeddingModelDirectory); every collection of the server is indexed with it.", nameof(this.EmbeddingModelDirectory));
        }

        if (string.IsNullOrWhiteSpace(this.Store))
        {
            throw new ArgumentException("no store: give --store <dir or Qdrant URL> (T5Rag:Store).", nameof(this.Store));
        }

        Positive(this.MaxRequestBytes, nameof(this.MaxRequestBytes));
        Positive(this.MaxUploadBytes, nameof(this.MaxUploadBytes));
        Positive(this.MaxQueuedJobs, nameof(this.MaxQueuedJobs));
        Positive(this.RequestsPerSecondPerKey, nameof(this.RequestsPerSecondPerKey));
        Positive(this.BurstPerKey, nameof(this.BurstPerKey));
        Positive(this.MaxTop, nameof(this.MaxTop));
        _ = this.ResolveAnswerer();
        if (this.AskTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException($"T5Rag:AskTimeout {this.AskTimeout}: expected a positive time.", nameof(this.AskTimeout));
        }
    }

    private static void Positive(long value, string name)
    {
        if (value < 1)
        {
            throw new ArgumentException($"T5Rag:{name} {value}: expected at least 1.", name);
        }
    }
}
