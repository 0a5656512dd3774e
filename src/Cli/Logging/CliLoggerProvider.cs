using Microsoft.Extensions.Logging;

namespace T5Gemma2.Rag.Cli.Logging;

/// <summary>
/// Writes each log message as one plain line, <c>t5rag: warning: …</c>, to the CLI's stderr writer. The console logger
/// of Microsoft.Extensions.Logging.Console is not used: it writes to the process's own console from a background
/// thread, so in-process runs with captured streams would not see its lines, and a line could arrive after the
/// command's last output.
/// </summary>
internal sealed class CliLoggerProvider(TextWriter error) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new CliLogger(error);

    public void Dispose()
    {
        // Nothing is buffered: every line is written as it is logged.
    }
}
