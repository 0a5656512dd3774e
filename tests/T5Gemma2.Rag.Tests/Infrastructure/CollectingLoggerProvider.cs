using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace T5Gemma2.Rag.Tests.Infrastructure;

/// <summary>
/// Keeps every log record at every level — category, level, event id, the formatted message, the structured state and
/// the exception — and the text of every scope begun (what a sink that writes scopes would write).
/// </summary>
internal sealed class CollectingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<Record> _records = new();
    private readonly ConcurrentQueue<string> _scopes = new();

    public IReadOnlyCollection<Record> Records => this._records;

    /// <summary>Each scope's text and its name-value pairs.</summary>
    public IReadOnlyCollection<string> Scopes => this._scopes;

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, this._records, this._scopes);

    public void Dispose()
    {
    }

    /// <param name="State">The state's name-value pairs when it has them (what a structured sink would store).</param>
    public sealed record Record(string Category, LogLevel Level, EventId EventId, string Message, IReadOnlyList<KeyValuePair<string, object?>> State, string? Exception)
    {
        /// <summary>Everything of the record a sink could write, as text.</summary>
        public IEnumerable<string> Texts() =>
            [this.Category, this.EventId.Name ?? string.Empty, this.Message, this.Exception ?? string.Empty, .. this.State.SelectMany(p => new[] { p.Key, Convert.ToString(p.Value, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty })];

        public object? this[string name] => this.State.FirstOrDefault(p => p.Key == name).Value;
    }

    private sealed class Logger(string category, ConcurrentQueue<Record> records, ConcurrentQueue<string> scopes) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull
        {
            scopes.Enqueue(state.ToString() ?? string.Empty);
            foreach (var (key, value) in state as IEnumerable<KeyValuePair<string, object?>> ?? [])
            {
                scopes.Enqueue($"{key}={value}");
            }

            return null;
        }

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var pairs = state as IEnumerable<KeyValuePair<string, object?>> ?? [];
            records.Enqueue(new Record(category, logLevel, eventId, formatter(state, exception), [.. pairs], exception?.ToString()));
        }
    }
}
