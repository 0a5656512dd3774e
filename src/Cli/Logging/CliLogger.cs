using Microsoft.Extensions.Logging;

namespace T5Gemma2.Rag.Cli.Logging;

/// <summary>One category's logger for <see cref="CliLoggerProvider"/>; the factory's filter decides the levels.</summary>
internal sealed class CliLogger(TextWriter error) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        if (!this.IsEnabled(logLevel))
        {
            return;
        }

        string message = formatter(state, exception);
        if (exception is not null)
        {
            message += $" ({exception.GetType().Name}: {exception.Message})";
        }

        // One line per message, so scripts can grep stderr and a message never splits across another writer's output.
        error.WriteLine($"t5rag: {Name(logLevel)}: {message.ReplaceLineEndings(" ")}");
    }

    private static string Name(LogLevel level) => level switch
    {
        LogLevel.Trace => "trace",
        LogLevel.Debug => "debug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warning",
        LogLevel.Error => "error",
        _ => "critical",
    };
}
