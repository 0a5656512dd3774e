using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.ML.Tokenizers;
using T5Gemma2.Rag.Indexer.Chunking;
using T5Gemma2.Rag.Indexer.Documents;

namespace T5Gemma2.Rag.Indexer.Pipeline;

/// <summary>
/// Turns a loaded document into what the pipeline stores: the hash that says whether it changed since the last run
/// (its text, structure and the run's chunk settings and tags), its passages, and each passage's embedding input.
/// </summary>
internal sealed class PassageCutter
{
    private readonly DocumentChunker _chunker;
    private readonly IngestOptions _options;
    private readonly IReadOnlyDictionary<string, string> _tags;
    private readonly string _signature;

    /// <param name="maxInputTokens">The embedding model's input length, special tokens included (the default chunk budget).</param>
    /// <param name="indexImages">Whether documents' images become image passages (the model embeds images); otherwise they are left out.</param>
    public PassageCutter(Tokenizer tokenizer, int maxInputTokens, IngestOptions options, bool indexImages = false)
        : this(new DocumentChunker(tokenizer, options.Chunking ?? ChunkingOptions.ForModel(Math.Max(maxInputTokens - IngestOptions.HeadingReserveTokens, ChunkingOptions.MinMaxTokens + 2))), options, options.Tags, indexImages)
    {
    }

    private PassageCutter(DocumentChunker chunker, IngestOptions options, IReadOnlyDictionary<string, string> tags, bool indexImages)
    {
        this._chunker = chunker;
        this._options = options;
        this._tags = tags;
        this.IndexesImages = indexImages;
        this._signature = string.Create(CultureInfo.InvariantCulture, $"v1;chunk={options.ChunkDocuments};max={chunker.Options.MaxTokens};overlap={chunker.Options.OverlapTokens};tags={JsonSerializer.Serialize(tags.OrderBy(t => t.Key, StringComparer.Ordinal))}");
    }

    /// <summary>The chunk settings in use.</summary>
    public ChunkingOptions Chunking => this._chunker.Options;

    /// <summary>Whether documents' images become image passages.</summary>
    public bool IndexesImages { get; }

    /// <summary>This cutter with other tags (one run's, instead of the options'): same chunks, the tags on every passage and in the hash.</summary>
    public PassageCutter WithTags(IReadOnlyDictionary<string, string> tags) => new(this._chunker, this._options, tags, this.IndexesImages);

    /// <summary>Equal for a document that would be cut into the same passages with the same tags: nothing to redo.</summary>
    public string Hash(LoadedDocument document)
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

        // Only documents with images hash them, so a document without any keeps the hash it had before images were indexed.
        foreach (var image in this.IndexesImages ? document.Images : [])
        {
            Add(string.Create(CultureInfo.InvariantCulture, $"image,{image.Page},{image.SectionPath},{image.Image.MediaType}"));
            Add(image.NearbyText);
            hash.AppendData(image.Image.Data);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>
    /// The document's passages: token-aware chunks, or the whole text as one when chunking is off; then, when images are
    /// indexed, one image passage per image, numbered after the text chunks, its text the image's nearby text.
    /// </summary>
    public List<Passage> Cut(LoadedDocument document, DateTimeOffset indexedAt)
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

        List<Passage> passages = [.. chunks.Select(chunk =>
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
                Tags = this._tags,
                IndexedAt = indexedAt,
            };
        })];
        foreach (var image in this.IndexesImages ? document.Images : [])
        {
            int index = passages.Count;
            string hash = ImageContentHash(image);
            passages.Add(new Passage
            {
                Id = PassageIds.Create(document.DocumentId, index, hash),
                DocumentId = document.DocumentId,
                Source = document.Source,
                Title = document.Title,
                SectionPath = image.SectionPath,
                Page = image.Page,
                ChunkIndex = index,
                Text = image.NearbyText,
                ContentHash = hash,
                TokenCount = this._chunker.CountTokens(image.NearbyText),
                Tags = this._tags,
                IndexedAt = indexedAt,
                Kind = PassageKind.Image,
                Image = image.Image,
            });
        }

        return passages;
    }

    /// <summary>An image passage's content hash: SHA-256 of its nearby text and its image bytes, so a changed image (or caption) is a new passage.</summary>
    private static string ImageContentHash(DocumentImage image)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(image.NearbyText + "\u001f" + image.Image.MediaType + "\u001f"));
        hash.AppendData(image.Image.Data);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>The embedding input: title and section path above the text, so a passage carries its context.</summary>
    public static string EmbeddingInput(Passage passage)
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
}
