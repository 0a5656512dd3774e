using System.Globalization;
using System.Text.Json;
using T5Gemma2.Rag.Indexer.Stores;

namespace T5Gemma2.Rag.Cli.Configuration;

/// <summary>
/// One setting of <c>t5rag.json</c>: its configuration key (<c>search:top</c>, the file's <c>"search": { "top": … }</c>),
/// what its value must be, and the flat environment variable t5rag has always read for it (<c>T5RAG_SEARCH_TOP</c>).
/// </summary>
internal sealed record SettingKey(string Key, SettingKind Kind, string Variable)
{
    /// <summary>Every setting: the file's schema, and all that the environment may set.</summary>
    public static IReadOnlyList<SettingKey> All { get; } =
    [
        new("model", SettingKind.Text, "T5RAG_MODEL"),
        new("store", SettingKind.Text, "T5RAG_STORE"),
        new("collection", SettingKind.Text, "T5RAG_COLLECTION"),
        new("threads", SettingKind.PositiveInteger, "T5RAG_THREADS"),
        new("dimensions", SettingKind.PositiveInteger, "T5RAG_DIMENSIONS"),
        new("chunking:maxTokens", SettingKind.PositiveInteger, "T5RAG_CHUNK_TOKENS"),
        new("chunking:overlapTokens", SettingKind.Count, "T5RAG_OVERLAP_TOKENS"),
        new("search:mode", SettingKind.SearchMode, "T5RAG_SEARCH_MODE"),
        new("search:top", SettingKind.PositiveInteger, "T5RAG_SEARCH_TOP"),
        new("qdrant:url", SettingKind.Text, "QDRANT_URL"),
        new("qdrant:apiKey", SettingKind.Text, "QDRANT_API_KEY"),
    ];

    /// <summary>The key as the file spells it, for messages: <c>search.top</c>.</summary>
    public string Field => this.Key.Replace(':', '.');

    /// <summary>The Microsoft.Extensions.Configuration spelling of the variable: <c>T5RAG_SEARCH__TOP</c>.</summary>
    public string StandardVariable => T5RagSettings.EnvironmentPrefix + this.Key.Replace(":", "__", StringComparison.Ordinal).ToUpperInvariant();

    /// <summary>The JSON kind the file must give the value in (a count is a number, not a string of digits).</summary>
    public JsonValueKind JsonKind => this.Kind is SettingKind.Text or SettingKind.SearchMode ? JsonValueKind.String : JsonValueKind.Number;

    /// <summary>What the value must be, for messages: "a positive integer".</summary>
    public string Expected => this.Kind switch
    {
        SettingKind.PositiveInteger => "a positive integer",
        SettingKind.Count => "a whole number of 0 or more",
        SettingKind.SearchMode => "a search mode (dense, keyword or hybrid)",
        _ => "a string",
    };

    /// <summary>Whether <paramref name="value"/> is one this setting takes.</summary>
    public bool Accepts(string value) => this.Kind switch
    {
        SettingKind.PositiveInteger => TryParseCount(value, out int count) && count > 0,
        SettingKind.Count => TryParseCount(value, out _),
        SettingKind.SearchMode => TryParseMode(value, out _),
        _ => true,
    };

    /// <summary>Plain digits only: no sign, spaces, exponent or fraction.</summary>
    public static bool TryParseCount(string value, out int count) => int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out count);

    /// <summary>A mode by name, in any case; Enum.TryParse would also take "1" and "dense, keyword".</summary>
    public static bool TryParseMode(string value, out SearchMode mode)
    {
        string? name = Enum.GetNames<SearchMode>().FirstOrDefault(n => n.Equals(value, StringComparison.OrdinalIgnoreCase));
        mode = name is null ? default : Enum.Parse<SearchMode>(name);
        return name is not null;
    }

    /// <summary>The setting with this configuration key (any case), if there is one.</summary>
    public static SettingKey? Find(string key) => All.FirstOrDefault(s => s.Key.Equals(key, StringComparison.OrdinalIgnoreCase));
}
