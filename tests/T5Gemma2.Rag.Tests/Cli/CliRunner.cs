using T5Gemma2.Rag.Cli;
using T5Gemma2.Rag.Cli.Console;

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
}
