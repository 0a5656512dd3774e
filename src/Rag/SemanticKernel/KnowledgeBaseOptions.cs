using T5Gemma2.Rag.Answering;
using T5Gemma2.Rag.Encoder.Generation;
using T5Gemma2.Rag.Encoder.Onnx;
using T5Gemma2.Rag.Indexer.Pipeline;
using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Packing;
using T5Gemma2.Rag.Retrieval;

namespace T5Gemma2.Rag.SemanticKernel;

/// <summary>
/// What <c>AddT5Gemma2Rag</c> builds a knowledge base from: the embedding model, the optional answering model, the
/// store and collection, and the defaults the plugin's functions use when the caller (often a model) gives none.
/// </summary>
public sealed class KnowledgeBaseOptions
{
    /// <summary>The embedding model directory (a T5Gemma 2 conversion or a sentence-transformers ONNX export); required. A collection is tied to the model it was indexed with.</summary>
    public string? EmbeddingModelDirectory { get; set; }

    /// <summary>A T5Gemma 2 encoder-decoder conversion that answers <c>ask</c>; null leaves search and indexing only.</summary>
    public string? GeneratorModelDirectory { get; set; }

    /// <summary>A store directory (the embedded store) or a Qdrant URL, as <c>t5rag --store</c> takes it.</summary>
    public string Store { get; set; } = ".t5rag";

    /// <summary>The collection; null: the one a Qdrant URL names (<c>?collection=</c>), else <c>default</c>.</summary>
    public string? CollectionName { get; set; }

    /// <summary>The name the plugin is added to a kernel under (letters, digits and '_').</summary>
    public string PluginName { get; set; } = "knowledge";

    /// <summary>How search and ask retrieve; a call's <c>top</c> and filter replace <see cref="RetrievalOptions.Top"/> and <see cref="RetrievalOptions.Filter"/>.</summary>
    public RetrievalOptions Retrieval { get; set; } = RetrievalOptions.Default;

    /// <summary>How ask packs the passages into the encoder input.</summary>
    public PackingOptions Packing { get; set; } = PackingOptions.Default;

    /// <summary>How ask generates (greedy, 256 new tokens at most by default).</summary>
    public GenerationOptions Generation { get; set; } = AskOptions.Default.Generation;

    /// <summary>Generation stops after this and the answer so far is returned, marked as timed out.</summary>
    public TimeSpan? AnswerTimeout { get; set; }

    /// <summary>Chunking, tags and the directory walk of index_text and index_file.</summary>
    public IngestOptions Ingest { get; set; } = new();

    /// <summary>
    /// Directories index_file may read under; null lets it read any path the process can. Set it when the caller is a
    /// model (an MCP client, an agent) that should not pull arbitrary local files into the index.
    /// </summary>
    public IReadOnlyList<string>? FileRoots { get; set; }

    /// <summary>
    /// Whether calls may name files of this machine at all (index_file, and ask's image as a path): true for a local
    /// host (<c>t5rag mcp</c>, an in-process agent); false for a server whose callers are remote and have no business
    /// reading its disk, where index_file refuses and an image must come as base64 or a data: URI.
    /// </summary>
    public bool ReadHostFiles { get; set; } = true;

    /// <summary>How the embedding and answering models run: ONNX Runtime threads (every core by default) and device.</summary>
    public OnnxSessionOptions Session { get; set; } = OnnxSessionOptions.Default;

    /// <summary>The collection's vector length, a Matryoshka cut of the embedding model's (null: the model's own); the collection records it and refuses vectors of another.</summary>
    public int? Dimensions { get; set; }

    /// <summary>The largest image an ask call may pass (base64, a data: URI or a file), in bytes: 20 MB by default.</summary>
    public long MaxImageBytes { get; set; } = 20L * 1024 * 1024;

    /// <summary>The most passages one search or ask call may ask for.</summary>
    public int MaxTop { get; set; } = 50;

    /// <summary>The collection to use: <see cref="CollectionName"/>, else the store URL's, else <c>default</c>.</summary>
    public string ResolveCollectionName() => this.CollectionName ?? PassageStores.CollectionOf(this.Store) ?? "default";

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first option that cannot work.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(this.EmbeddingModelDirectory))
        {
            throw new ArgumentException("KnowledgeBaseOptions.EmbeddingModelDirectory is not set; expected the embedding model directory the collection is indexed with.", nameof(this.EmbeddingModelDirectory));
        }

        if (this.GeneratorModelDirectory is { } generator && string.IsNullOrWhiteSpace(generator))
        {
            throw new ArgumentException("KnowledgeBaseOptions.GeneratorModelDirectory is blank; expected a T5Gemma 2 conversion, or null for search and indexing only.", nameof(this.GeneratorModelDirectory));
        }

        if (string.IsNullOrWhiteSpace(this.Store))
        {
            throw new ArgumentException("KnowledgeBaseOptions.Store is empty; expected a store directory or a Qdrant URL.", nameof(this.Store));
        }

        if (string.IsNullOrWhiteSpace(this.PluginName) || !this.PluginName.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
        {
            throw new ArgumentException($"KnowledgeBaseOptions.PluginName \"{this.PluginName}\": expected letters, digits and '_' only (a Semantic Kernel plugin name).", nameof(this.PluginName));
        }

        ArgumentNullException.ThrowIfNull(this.Retrieval, nameof(this.Retrieval));
        ArgumentNullException.ThrowIfNull(this.Packing, nameof(this.Packing));
        ArgumentNullException.ThrowIfNull(this.Generation, nameof(this.Generation));
        ArgumentNullException.ThrowIfNull(this.Ingest, nameof(this.Ingest));
        this.Retrieval.Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(this.MaxTop, 1, nameof(this.MaxTop));
        if (this.AnswerTimeout is { } timeout)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero, nameof(this.AnswerTimeout));
        }
    }
}
