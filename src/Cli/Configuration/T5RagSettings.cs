using System.Globalization;
using System.Text.Json;
using T5Gemma2.Rag.Indexer.Stores;

namespace T5Gemma2.Rag.Cli.Configuration;

/// <summary>
/// Defaults for the indexing and search commands, from a <c>t5rag.json</c> file (the current directory's, or the one
/// T5RAG_CONFIG names) overridden by environment variables (T5RAG_MODEL, T5RAG_STORE, T5RAG_COLLECTION,
/// T5RAG_CHUNK_TOKENS, T5RAG_OVERLAP_TOKENS, T5RAG_SEARCH_MODE, T5RAG_SEARCH_TOP, T5RAG_THREADS, QDRANT_URL,
/// QDRANT_API_KEY);
/// command-line options override both.
/// </summary>
/// <example>
/// { "model": "models/minilm", "store": ".t5rag", "collection": "docs",
///   "chunking": { "maxTokens": 256, "overlapTokens": 32 }, "search": { "mode": "hybrid", "top": 10 },
///   "qdrant": { "url": "http://localhost:6334" }, "threads": 8 }
/// with "store": "qdrant" (or --store qdrant) to use that server; the API key is better left to QDRANT_API_KEY than
/// written into a file.
/// </example>
internal sealed class T5RagSettings
{
    public const string FileName = "t5rag.json";

    public string? Model { get; private set; }

    public string Store { get; private set; } = ".t5rag";

    public string Collection { get; private set; } = "default";

    public int? ChunkTokens { get; private set; }

    public int? OverlapTokens { get; private set; }

    public SearchMode SearchMode { get; private set; } = SearchMode.Hybrid;

    public int SearchTop { get; private set; } = 10;

    /// <summary>ONNX Runtime's intra-op threads for every model the commands load (null: every core).</summary>
    public int? Threads { get; private set; }

    /// <summary>The Qdrant server that the store location <c>qdrant</c> means (t5rag.json qdrant.url, or QDRANT_URL).</summary>
    public string? QdrantUrl { get; private set; }

    /// <summary>The Qdrant server's API key (t5rag.json qdrant.apiKey, or QDRANT_API_KEY).</summary>
    public string? QdrantApiKey { get; private set; }

    /// <summary>Where the settings came from, for messages.</summary>
    public string? FilePath { get; private set; }

    /// <summary>Reads the file (when there is one) and the environment.</summary>
    /// <exception cref="InputFileException">The file is not valid JSON or a field has the wrong type or value.</exception>
    public static T5RagSettings Load(string? path = null, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var settings = new T5RagSettings();
        path ??= environment("T5RAG_CONFIG") ?? (File.Exists(FileName) ? FileName : null);
        if (path is not null)
        {
            settings.FilePath = Path.GetFullPath(path);
            settings.ReadFile(path);
        }

        settings.Model = environment("T5RAG_MODEL") ?? settings.Model;
        settings.Store = environment("T5RAG_STORE") ?? settings.Store;
        settings.Collection = environment("T5RAG_COLLECTION") ?? settings.Collection;
        settings.ChunkTokens = Integer(environment("T5RAG_CHUNK_TOKENS"), "T5RAG_CHUNK_TOKENS") ?? settings.ChunkTokens;
        settings.OverlapTokens = Integer(environment("T5RAG_OVERLAP_TOKENS"), "T5RAG_OVERLAP_TOKENS") ?? settings.OverlapTokens;
        settings.SearchTop = Integer(environment("T5RAG_SEARCH_TOP"), "T5RAG_SEARCH_TOP") ?? settings.SearchTop;
        settings.Threads = Integer(environment("T5RAG_THREADS"), "T5RAG_THREADS") ?? settings.Threads;
        if (environment("T5RAG_SEARCH_MODE") is { } mode)
        {
            settings.SearchMode = ParseMode(mode, "T5RAG_SEARCH_MODE");
        }

        settings.QdrantUrl = NonEmpty(environment("QDRANT_URL")) ?? settings.QdrantUrl;
        settings.QdrantApiKey = NonEmpty(environment("QDRANT_API_KEY")) ?? settings.QdrantApiKey;

        return settings;
    }

    /// <summary>dense, keyword or hybrid, in any case.</summary>
    public static SearchMode ParseMode(string value, string where) =>
        Enum.TryParse<SearchMode>(value, ignoreCase: true, out var mode) && Enum.IsDefined(mode)
            ? mode
            : throw new InputFileException(where, $"\"{value}\" is not a search mode; expected dense, keyword or hybrid.");

    private void ReadFile(string path)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (Exception ex) when (ex is JsonException or IOException or UnauthorizedAccessException)
        {
            throw new InputFileException(path, $"cannot be read as settings ({ex.Message.Split('\n')[0]}); expected a JSON object.", ex);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new InputFileException(path, "expected a JSON object of settings.");
            }

            this.Model = String(root, "model", path) ?? this.Model;
            this.Store = String(root, "store", path) ?? this.Store;
            this.Collection = String(root, "collection", path) ?? this.Collection;
            this.Threads = Int(root, "threads", path, string.Empty) ?? this.Threads;
            if (root.TryGetProperty("chunking", out var chunking))
            {
                this.ChunkTokens = Int(chunking, "maxTokens", path, "chunking.") ?? this.ChunkTokens;
                this.OverlapTokens = Int(chunking, "overlapTokens", path, "chunking.") ?? this.OverlapTokens;
            }

            if (root.TryGetProperty("qdrant", out var qdrant))
            {
                if (qdrant.ValueKind != JsonValueKind.Object)
                {
                    throw new InputFileException(path, $"\"qdrant\" is {qdrant.ValueKind}; expected an object such as {{ \"url\": \"http://localhost:6334\" }}.");
                }

                this.QdrantUrl = String(qdrant, "url", path) ?? this.QdrantUrl;
                this.QdrantApiKey = String(qdrant, "apiKey", path) ?? this.QdrantApiKey;
            }

            if (root.TryGetProperty("search", out var search))
            {
                this.SearchTop = Int(search, "top", path, "search.") ?? this.SearchTop;
                if (String(search, "mode", path) is { } mode)
                {
                    this.SearchMode = ParseMode(mode, $"{path} (search.mode)");
                }
            }
        }
    }

    private static string? String(JsonElement element, string name, string path) =>
        !element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null ? null
        : value.ValueKind == JsonValueKind.String ? value.GetString()
        : throw new InputFileException(path, $"\"{name}\" is {value.ValueKind}; expected a string.");

    private static int? Int(JsonElement element, string name, string path, string prefix) =>
        !element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null ? null
        : value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int number) && number > 0 ? number
        : throw new InputFileException(path, $"\"{prefix}{name}\" is {value}; expected a positive integer.");

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static int? Integer(string? value, string name) =>
        value is null ? null
        : int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int number) && number > 0 ? number
        : throw new InputFileException(name, $"\"{value}\" is not a positive integer.");
}
