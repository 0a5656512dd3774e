using Microsoft.Extensions.Logging;

namespace T5Gemma2.Rag.Cli.Configuration;

/// <summary>Source-generated log messages of the settings (event ids 5000–5099).</summary>
internal static partial class SettingsLog
{
    [LoggerMessage(5000, LogLevel.Warning, "{Path}: unknown setting \"{Field}\" is ignored; {Hint}")]
    public static partial void UnknownSetting(this ILogger logger, string path, string field, string hint);
}
