using System.Globalization;

namespace T5Gemma2.Rag.Indexer.Stores.Qdrant;

/// <summary>
/// A Qdrant store named as a location string, the way <c>--store</c> takes it: <c>qdrant://host:6334</c> (plain gRPC),
/// <c>qdrants://host:6334</c> or <c>https://host:6334</c> (TLS), <c>http://host:6334</c>, or the bare word
/// <c>qdrant</c> for QDRANT_URL (default http://localhost:6334). The port is the gRPC one and defaults to 6334. An
/// optional <c>?collection=name</c> picks the collection. The API key never rides in the URL (it would show in process
/// lists and shell history): it comes from QDRANT_API_KEY.
/// </summary>
/// <param name="Endpoint">The gRPC endpoint, http or https.</param>
/// <param name="Collection">The collection the location names, or null.</param>
/// <param name="ApiKey">From QDRANT_API_KEY, or null.</param>
public sealed record QdrantStoreLocation(Uri Endpoint, string? Collection, string? ApiKey)
{
    /// <summary>Qdrant's gRPC port (6333 is its REST port, which this store does not speak).</summary>
    public const int GrpcPort = 6334;

    /// <summary>The bare location word that means "the configured Qdrant server".</summary>
    public const string Keyword = "qdrant";

    public const string UrlVariable = "QDRANT_URL";

    public const string ApiKeyVariable = "QDRANT_API_KEY";

    /// <summary>A server on this machine, as compose/docker-compose.yml starts it.</summary>
    public static Uri DefaultEndpoint { get; } = new("http://localhost:6334");

    /// <summary>Whether <paramref name="location"/> names a Qdrant server rather than a directory.</summary>
    public static bool IsQdrant(string? location) =>
        location is not null
        && (location.Equals(Keyword, StringComparison.OrdinalIgnoreCase)
            || location.StartsWith("qdrant://", StringComparison.OrdinalIgnoreCase)
            || location.StartsWith("qdrants://", StringComparison.OrdinalIgnoreCase)
            || location.StartsWith("http://", StringComparison.OrdinalIgnoreCase)
            || location.StartsWith("https://", StringComparison.OrdinalIgnoreCase));

    /// <summary>Parses a location (see the type's remarks).</summary>
    /// <param name="environment">Reads QDRANT_URL and QDRANT_API_KEY; null: the process environment.</param>
    /// <exception cref="FormatException">The location is not a Qdrant URL of the expected shape; the message says what was expected.</exception>
    public static QdrantStoreLocation Parse(string location, Func<string, string?>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(location);
        environment ??= Environment.GetEnvironmentVariable;
        string? apiKey = environment(ApiKeyVariable) is { Length: > 0 } key ? key : null;
        if (location.Equals(Keyword, StringComparison.OrdinalIgnoreCase))
        {
            string? url = environment(UrlVariable);
            if (url is { Length: > 0 } && !url.Equals(Keyword, StringComparison.OrdinalIgnoreCase))
            {
                return Parse(url, environment);
            }

            return new QdrantStoreLocation(DefaultEndpoint, null, apiKey);
        }

        int schemeEnd = location.IndexOf("://", StringComparison.Ordinal);
        string scheme = schemeEnd > 0 ? location[..schemeEnd].ToLowerInvariant() : string.Empty;
        string? transport = scheme switch
        {
            "qdrant" or "http" => Uri.UriSchemeHttp,
            "qdrants" or "https" => Uri.UriSchemeHttps,
            _ => null,
        };
        if (transport is null || !Uri.TryCreate(location, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            throw new FormatException($"Qdrant location \"{location}\": expected qdrant://host[:port][?collection=name] (or qdrants://, http://, https://).");
        }

        if (uri.UserInfo.Length > 0)
        {
            throw new FormatException($"Qdrant location \"{Redacted(location)}\": credentials do not belong in the URL; set {ApiKeyVariable} instead.");
        }

        if (uri.AbsolutePath is not ("/" or ""))
        {
            throw new FormatException($"Qdrant location \"{location}\": unexpected path '{uri.AbsolutePath}'; expected qdrant://host[:port][?collection=name].");
        }

        string? collection = null;
        foreach (string parameter in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int equals = parameter.IndexOf('=', StringComparison.Ordinal);
            string name = Uri.UnescapeDataString(equals < 0 ? parameter : parameter[..equals]);
            string value = equals < 0 ? string.Empty : Uri.UnescapeDataString(parameter[(equals + 1)..].Replace('+', ' '));
            if (name != "collection" || value.Length == 0)
            {
                throw new FormatException(name is "api_key" or "api-key" or "apikey"
                    ? $"Qdrant location \"{Redacted(location)}\": the API key does not belong in the URL; set {ApiKeyVariable} instead."
                    : $"Qdrant location \"{location}\": unexpected parameter \"{parameter}\"; expected only collection=<name>.");
            }

            collection = value;
        }

        int port = HasExplicitPort(location, schemeEnd + 3) ? uri.Port : GrpcPort;
        var endpoint = new UriBuilder(transport, uri.Host, port).Uri;
        return new QdrantStoreLocation(endpoint, collection, apiKey);
    }

    /// <summary>The location as <c>--store</c> takes it back: qdrant(s)://host:port, with the collection when given.</summary>
    public static string Format(Uri endpoint, string? collection = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        string scheme = endpoint.Scheme == Uri.UriSchemeHttps ? "qdrants" : "qdrant";
        string host = endpoint.HostNameType == UriHostNameType.IPv6 ? $"[{endpoint.DnsSafeHost}]" : endpoint.Host;
        string text = string.Create(CultureInfo.InvariantCulture, $"{scheme}://{host}:{endpoint.Port}");
        return collection is null ? text : $"{text}?collection={Uri.EscapeDataString(collection)}";
    }

    /// <summary>Options for this server with every other value at its default.</summary>
    public QdrantStoreOptions ToOptions() => QdrantStoreOptions.For(this.Endpoint, this.ApiKey);

    /// <summary>The location without the API key.</summary>
    public override string ToString() => Format(this.Endpoint, this.Collection);

    private static bool HasExplicitPort(string location, int authorityStart)
    {
        int end = location.IndexOfAny(['/', '?', '#'], authorityStart);
        string authority = end < 0 ? location[authorityStart..] : location[authorityStart..end];
        int bracket = authority.LastIndexOf(']');
        return authority.IndexOf(':', bracket + 1) >= 0;
    }

    private static string Redacted(string location)
    {
        int at = location.IndexOf('@', StringComparison.Ordinal);
        int start = location.IndexOf("://", StringComparison.Ordinal) + 3;
        int query = location.IndexOf('?', StringComparison.Ordinal);
        string text = at > start ? location[..start] + "***" + location[at..] : location;
        return query >= 0 && text.Contains('?', StringComparison.Ordinal) ? text[..text.IndexOf('?', StringComparison.Ordinal)] + "?***" : text;
    }
}
