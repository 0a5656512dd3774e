using Microsoft.Extensions.Logging;

namespace T5Gemma2.Rag.Answering;

/// <summary>Source-generated log messages of <see cref="RagAnswerer"/> (event ids 4000–4099).</summary>
internal static partial class RagAnswererLog
{
    [LoggerMessage(4000, LogLevel.Debug, "Retrieved {Retrieved} passages in {RetrieveMs:F0} ms; packed {Packed} into {Tokens} of {Budget} tokens ({LeftOut} left out, {Truncated} cut short)")]
    public static partial void Packed(this ILogger logger, int retrieved, double retrieveMs, int packed, int tokens, int budget, int leftOut, int truncated);

    [LoggerMessage(4001, LogLevel.Warning, "The answer was cut off by the {TimeoutSeconds:0.###} s time limit after {Characters} characters")]
    public static partial void TimedOut(this ILogger logger, double timeoutSeconds, int characters);

    [LoggerMessage(4002, LogLevel.Debug, "Answered in {TotalMs:F0} ms (first token after {FirstTokenMs:F0} ms), citing {Cited} of {Passages} passages")]
    public static partial void Answered(this ILogger logger, double totalMs, double firstTokenMs, int cited, int passages);
}
