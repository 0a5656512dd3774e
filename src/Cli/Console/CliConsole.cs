using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Spectre.Console;

namespace T5Gemma2.Rag.Cli.Console;

/// <summary>
/// Where a command writes: results to <see cref="Out"/>, diagnostics and progress to <see cref="Error"/>. Progress is
/// drawn with Spectre.Console only on an interactive terminal; redirected output gets plain lines.
/// </summary>
public sealed class CliConsole
{
    public CliConsole(TextReader input, TextWriter output, TextWriter error, bool interactive)
    {
        this.In = input;
        this.Out = output;
        // Log lines come from the libraries' worker threads while the command writes too: each write is made whole.
        this.Error = TextWriter.Synchronized(error);
        this.IsInteractive = interactive;
    }

    public TextReader In { get; }

    public TextWriter Out { get; }

    public TextWriter Error { get; }

    /// <summary>True when stderr is a terminal a person watches (progress bars, colours).</summary>
    public bool IsInteractive { get; }

    /// <summary>The command line being run (t5rag's own arguments), for benchmarks to print as they ran.</summary>
    public IReadOnlyList<string> Arguments { get; set; } = [];

    /// <summary>
    /// Where the libraries' log messages go (one line each on <see cref="Error"/>, at the level --verbose or --quiet
    /// set); commands pass it to every library object that takes one. Set once the command line is parsed.
    /// </summary>
    public ILoggerFactory LoggerFactory { get; set; } = NullLoggerFactory.Instance;

    /// <summary>The process's own console streams.</summary>
    public static CliConsole FromProcess() => new(
        System.Console.In,
        System.Console.Out,
        System.Console.Error,
        interactive: !System.Console.IsErrorRedirected && AnsiConsole.Profile.Capabilities.Interactive);

    /// <summary>Runs <paramref name="work"/> showing <paramref name="description"/>: a spinner on a terminal, start and end lines otherwise.</summary>
    public async Task<T> RunWithStatusAsync<T>(string description, Func<Task<T>> work)
    {
        if (!this.IsInteractive)
        {
            await this.Error.WriteLineAsync($"{description}...");
            var started = DateTime.UtcNow;
            var result = await work();
            await this.Error.WriteLineAsync($"{description}: done in {(DateTime.UtcNow - started).TotalSeconds:F1} s");
            return result;
        }

        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(System.Console.Error) });
        return await console.Status().StartAsync(Markup.Escape(description), _ => work());
    }

    /// <summary>
    /// Runs <paramref name="work"/> with a progress bar (done of total, ETA, and a detail line) on a terminal, or a plain
    /// line at most every few seconds otherwise; <c>total</c> 0 means unknown.
    /// </summary>
    public async Task<T> RunWithProgressAsync<T>(string description, Func<IProgress<(double Done, double Total, string Detail)>, Task<T>> work)
    {
        if (!this.IsInteractive)
        {
            var last = DateTime.MinValue;
            var lastLock = new Lock();
            var plain = new Progress<(double Done, double Total, string Detail)>(p =>
            {
                lock (lastLock)
                {
                    if ((DateTime.UtcNow - last).TotalSeconds < 2)
                    {
                        return;
                    }

                    last = DateTime.UtcNow;
                }

                this.Error.WriteLine(p.Total > 0 ? $"{description}: {p.Done:N0}/{p.Total:N0}, {p.Detail}" : $"{description}: {p.Detail}");
            });
            return await work(plain);
        }

        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(System.Console.Error) });
        return await console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask(Markup.Escape(description), maxValue: 1);
                var bar = new Progress<(double Done, double Total, string Detail)>(p =>
                {
                    task.IsIndeterminate = p.Total <= 0;
                    if (p.Total > 0)
                    {
                        task.MaxValue = p.Total;
                        task.Value = p.Done;
                    }

                    task.Description = Markup.Escape($"{description}: {p.Detail}");
                });
                var result = await work(bar);
                task.Value = task.MaxValue;
                return result;
            });
    }

    /// <summary>Writes a table: a Spectre table on a terminal, aligned plain text otherwise.</summary>
    public void WriteTable(string title, string[] headers, IEnumerable<string[]> rows)
    {
        var materialized = rows.ToList();
        if (this.IsInteractive && ReferenceEquals(this.Out, System.Console.Out))
        {
            var table = new Table().Title(Markup.Escape(title));
            foreach (string header in headers)
            {
                table.AddColumn(Markup.Escape(header));
            }

            foreach (string[] row in materialized)
            {
                table.AddRow([.. row.Select(Markup.Escape)]);
            }

            AnsiConsole.Write(table);
            return;
        }

        int[] widths = [.. headers.Select((h, i) => Math.Max(h.Length, materialized.Count == 0 ? 0 : materialized.Max(r => r[i].Length)))];
        this.Out.WriteLine(title);
        this.Out.WriteLine(string.Join("  ", headers.Select((h, i) => h.PadRight(widths[i]))).TrimEnd());
        foreach (string[] row in materialized)
        {
            this.Out.WriteLine(string.Join("  ", row.Select((c, i) => c.PadRight(widths[i]))).TrimEnd());
        }
    }
}
