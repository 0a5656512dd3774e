using Microsoft.Extensions.Logging;

namespace T5Gemma2.Rag.Indexer.Stores.Embedded;

/// <summary>Source-generated log messages of the embedded store (event ids 3100–3199).</summary>
internal static partial class EmbeddedStoreLog
{
    [LoggerMessage(3100, LogLevel.Warning, "{Path}: another process is writing the collection; waiting up to {Seconds:F0} s for it to finish")]
    public static partial void WaitingForWriter(this ILogger logger, string path, double seconds);
}
