using System.Diagnostics;
using T5Gemma2.Rag.Cli;
using T5Gemma2.Rag.Cli.Console;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Cli;

/// <summary>Runs t5rag in-process with captured streams, as a script would see it.</summary>
internal static class CliRunner
{
    public static async Task<(int ExitCode, string Out, string Error)> RunWithInputAsync(string stdin, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = await CliApplication.RunAsync(args, new CliConsole(new StringReader(stdin), output, error, interactive: false), TestContext.Current.CancellationToken);
        return (code, output.ToString(), error.ToString());
    }

    public static Task<(int ExitCode, string Out, string Error)> RunAsync(params string[] args) => RunWithInputAsync("", args);

    /// <summary>Starts t5rag in a child process (its output streams redirected, the shell's settings variables removed), for what needs a real process: a kill, a signal.</summary>
    public static Process StartProcess(params string[] args) => T5ragProcess.Start(args);

    /// <summary>A benchmark's output after the four lines that say where and how it ran (machine, threads, runtime, command).</summary>
    public static string AfterBenchHeader(string output)
    {
        string[] lines = output.Split('\n');
        string[] header = ["machine: ", "threads: ", "runtime: ", "command: "];
        Assert.True(lines.Length > header.Length && header.Select((start, i) => lines[i].StartsWith(start, StringComparison.Ordinal)).All(b => b), $"expected the benchmark header first, got: {output}");
        return string.Join('\n', lines[header.Length..]);
    }
}
