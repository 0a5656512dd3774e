using System.CommandLine;
using T5Gemma2.Rag.Cli.Commands;
using T5Gemma2.Rag.Cli.Console;
using T5Gemma2.Rag.Cli.Logging;

namespace T5Gemma2.Rag.Cli;

/// <summary>The <c>t5rag</c> command line: builds the commands, runs one, and turns failures into one line and an exit code.</summary>
public static class CliApplication
{
    public static RootCommand CreateRootCommand(CliConsole console)
    {
        var root = new RootCommand("t5rag: retrieval and answering on T5Gemma 2 encoder-decoder models, on ONNX Runtime");
        root.Subcommands.Add(TokenizeCommand.Create(console));
        root.Subcommands.Add(EmbedCommand.Create(console));
        root.Subcommands.Add(GenerateCommand.Create(console));
        root.Subcommands.Add(ModelCommand.Create(console));
        root.Subcommands.Add(IndexCommand.Create(console));
        root.Subcommands.Add(SearchCommand.Create(console));
        root.Subcommands.Add(AskCommand.Create(console));
        root.Subcommands.Add(McpCommand.Create(console));
        root.Subcommands.Add(ServeCommand.Create(console));
        root.Subcommands.Add(KeysCommand.Create(console));
        root.Subcommands.Add(CollectionsCommand.Create(console));
        root.Subcommands.Add(EvalCommand.Create(console));
        root.Subcommands.Add(BenchCommand.Create(console));
        LoggingOptions.AddTo(root);
        return root;
    }

    /// <summary>Runs t5rag with <paramref name="args"/>; returns the exit code (see <see cref="ExitCodes"/>).</summary>
    public static async Task<int> RunAsync(string[] args, CliConsole console, CancellationToken cancellationToken)
    {
        console.Arguments = args;
        var parse = CreateRootCommand(console).Parse(args);

        // An unknown option explains every other error it causes (its value unmatched, a missing argument), so it alone is reported.
        var unknown = UnknownOptions.Describe(parse);
        if (unknown.Count > 0)
        {
            foreach (string line in unknown)
            {
                await console.Error.WriteLineAsync($"t5rag: {line}");
            }

            return ExitCodes.UsageError;
        }

        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                await console.Error.WriteLineAsync($"t5rag: {error.Message}");
            }

            await console.Error.WriteLineAsync("t5rag: see 't5rag --help'.");
            return ExitCodes.UsageError;
        }

        using var loggerFactory = LoggingOptions.CreateFactory(parse, console.Error);
        console.LoggerFactory = loggerFactory;
        try
        {
            // ProcessTerminationTimeout null: System.CommandLine's own Ctrl+C handler would cancel a token of its own, not
            // cancellationToken, and the cancelled command would then read as an internal error rather than exit 130.
            var invocation = new InvocationConfiguration { Output = console.Out, Error = console.Error, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null };
            return await parse.InvokeAsync(invocation, cancellationToken);
        }
        catch (Exception ex) when (ExitCodes.KindOf(ex, cancellationToken) is { } kind)
        {
            // The family's messages are one line fit for the user as they are; the CLI's user is the operator, who
            // also sees where a chat model is and what it said.
            await console.Error.WriteLineAsync(kind == FailureKind.Cancelled ? "t5rag: cancelled." : $"t5rag: {(ex is Answering.AnswererUnavailableException chat ? chat.ForOperator : ex.Message)}");
            return ExitCodes.For(kind);
        }
        catch (Exception ex)
        {
            await console.Error.WriteLineAsync($"t5rag: internal error ({ex.GetType().Name}: {ex.Message.Split('\n')[0]}); please report it.");
            return ExitCodes.InternalError;
        }
    }
}
