using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using T5Gemma2.Rag.Indexer.Stores;

namespace T5Gemma2.Rag.Cli.Configuration;

/// <summary>
/// Defaults for the commands, through Microsoft.Extensions.Configuration: a <c>t5rag.json</c> file (the current
/// directory's, or the one --config or T5RAG_CONFIG names), overridden by the environment (the flat T5RAG_MODEL,
/// T5RAG_STORE, T5RAG_COLLECTION, T5RAG_CHUNK_TOKENS, T5RAG_OVERLAP_TOKENS, T5RAG_SEARCH_MODE, T5RAG_SEARCH_TOP,
/// T5RAG_THREADS, QDRANT_URL and QDRANT_API_KEY, or the standard T5RAG_SEARCH__TOP form of every key); command-line
/// options override both, in the commands.
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

    /// <summary>The prefix of t5rag's own variables.</summary>
    public const string EnvironmentPrefix = "T5RAG_";

    /// <summary>The variable that names the settings file when --config does not.</summary>
    public const string ConfigVariable = EnvironmentPrefix + "CONFIG";

    private T5RagSettings(IConfiguration configuration)
    {
        this.Model = Text(configuration, "model");
        this.Store = Text(configuration, "store") ?? ".t5rag";
        this.Collection = Text(configuration, "collection") ?? "default";
        this.Threads = Count(configuration, "threads");
        this.Dimensions = Count(configuration, "dimensions");
        this.ChunkTokens = Count(configuration, "chunking:maxTokens");
        this.OverlapTokens = Count(configuration, "chunking:overlapTokens");
        this.SearchMode = Text(configuration, "search:mode") is { } mode && SettingKey.TryParseMode(mode, out var parsed) ? parsed : SearchMode.Hybrid;
        this.SearchTop = Count(configuration, "search:top") ?? 10;
        this.QdrantUrl = Text(configuration, "qdrant:url");
        this.QdrantApiKey = Text(configuration, "qdrant:apiKey");
    }

    public string? Model { get; }

    public string Store { get; }

    public string Collection { get; }

    public int? ChunkTokens { get; }

    public int? OverlapTokens { get; }

    public SearchMode SearchMode { get; }

    public int SearchTop { get; }

    /// <summary>ONNX Runtime's intra-op threads for every model the commands load (null: every core).</summary>
    public int? Threads { get; }

    /// <summary>The collection's vector length, a Matryoshka cut of the embedding model's (null: the collection's recorded length, else the model's).</summary>
    public int? Dimensions { get; }

    /// <summary>The Qdrant server that the store location <c>qdrant</c> means (t5rag.json qdrant.url, or QDRANT_URL).</summary>
    public string? QdrantUrl { get; }

    /// <summary>The Qdrant server's API key (t5rag.json qdrant.apiKey, or QDRANT_API_KEY).</summary>
    public string? QdrantApiKey { get; }

    /// <summary>Reads the file (<paramref name="path"/>, else T5RAG_CONFIG's, else ./t5rag.json when there is one) and the environment.</summary>
    /// <param name="loggerFactory">Where a warning about a key the file should not have goes.</param>
    /// <exception cref="InputFileException">The file is unreadable or not valid JSON, or a setting in it or in the environment has the wrong type or value.</exception>
    public static T5RagSettings Load(ILoggerFactory loggerFactory, string? path = null)
    {
        ArgumentNullException.ThrowIfNull(loggerFactory);
        path ??= NonEmpty(Environment.GetEnvironmentVariable(ConfigVariable)) ?? (File.Exists(FileName) ? FileName : null);
        var builder = new ConfigurationBuilder();
        var file = path is null ? null : SettingsFile.Read(path, loggerFactory.CreateLogger<T5RagSettings>());
        if (file is not null)
        {
            builder.Add(file.Source);
        }

        // Added last, so it wins: Microsoft.Extensions.Configuration gives a key the value of the last source that has it.
        var configuration = builder.Add(new SettingsEnvironmentSource()).Build();

        // Every layer is checked, not only the one that wins, so a bad value in the file is reported even while the
        // environment overrides it (it would surface later, when the variable is gone).
        foreach (var provider in configuration.Providers)
        {
            foreach (var setting in SettingKey.All)
            {
                if (provider.TryGet(setting.Key, out string? value) && !string.IsNullOrEmpty(value) && !setting.Accepts(value))
                {
                    throw provider is SettingsEnvironmentProvider environment ? environment.Fault(setting, value) : file!.Fault(setting, value);
                }
            }
        }

        return new T5RagSettings(configuration);
    }

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static string? Text(IConfiguration configuration, string key) => NonEmpty(configuration[key]);

    private static int? Count(IConfiguration configuration, string key) =>
        Text(configuration, key) is { } value && SettingKey.TryParseCount(value, out int count) ? count : null;
}
