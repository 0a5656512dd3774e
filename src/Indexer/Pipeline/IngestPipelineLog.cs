using Microsoft.Extensions.Logging;

namespace T5Gemma2.Rag.Indexer.Pipeline;

/// <summary>Source-generated log messages of <see cref="IngestPipeline"/> (event ids 2000–2099).</summary>
internal static partial class IngestPipelineLog
{
    [LoggerMessage(2000, LogLevel.Warning, "{Path} was not indexed: {Reason}")]
    public static partial void NotIndexed(this ILogger logger, string path, string reason);

    [LoggerMessage(2001, LogLevel.Debug, "Skipped {Path}: no loader reads its type")]
    public static partial void Unsupported(this ILogger logger, string path);

    [LoggerMessage(2002, LogLevel.Debug, "Skipped a record: {Record}")]
    public static partial void RecordSkipped(this ILogger logger, string record);

    // One warning per run, not per record: a corpus can have thousands of bad lines (each is a debug line).
    [LoggerMessage(2003, LogLevel.Warning, "{Count} records were skipped and not indexed; the first: {First}")]
    public static partial void RecordsSkipped(this ILogger logger, int count, string first);

    [LoggerMessage(2004, LogLevel.Debug, "Ingest run: {DocumentsNew} documents new, {DocumentsChanged} changed, {DocumentsUnchanged} unchanged; {PassagesNew} passages embedded, {PassagesReused} reused; {Failures} failures; {Seconds:F1} s")]
    public static partial void RunFinished(this ILogger logger, long documentsNew, long documentsChanged, long documentsUnchanged, long passagesNew, long passagesReused, int failures, double seconds);
}
