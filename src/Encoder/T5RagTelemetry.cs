using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace T5Gemma2.Rag.Encoder;

/// <summary>
/// The one <see cref="ActivitySource"/> and <see cref="Meter"/> every project records on, named <see cref="Name"/>:
/// what a host (the server's OpenTelemetry, an <see cref="ActivityListener"/>, <c>dotnet-counters</c>) listens to.
/// In the lowest project, with the BCL types only, so no library depends on an OpenTelemetry package. With nobody
/// listening, <see cref="ActivitySource.StartActivity(string, ActivityKind)"/> returns null and instruments record nothing.
/// </summary>
public static class T5RagTelemetry
{
    /// <summary>The source's and the meter's name.</summary>
    public const string Name = "T5Gemma2.Rag";

    /// <summary>The tag that names a collection (bounded: collections are made by writers and admins, not by every caller).</summary>
    public const string CollectionTag = "t5rag.collection";

    private static readonly string? s_version = typeof(T5RagTelemetry).Assembly.GetName().Version?.ToString();

    /// <summary>The spans: ask, retrieve, rerank, pack, generate, encode, decode, embed, ingest.</summary>
    public static ActivitySource Source { get; } = new(Name, s_version);

    /// <summary>The instruments: each made beside the code that records it, named <c>t5rag.*</c>.</summary>
    public static Meter Meter { get; } = new(Name, s_version);
}
