using System.CommandLine;
using Microsoft.Extensions.Logging;

namespace T5Gemma2.Rag.Cli.Logging;

/// <summary>
/// The global <c>--verbose</c> and <c>--quiet</c> options (on every command) and the logger factory they configure:
/// warnings and up by default, errors only with --quiet, debug and up with --verbose. Log lines go to stderr only, so
/// stdout keeps carrying results, JSON or the MCP protocol.
/// </summary>
internal static class LoggingOptions
{
    public const string VerboseName = "--verbose";

    public const string QuietName = "--quiet";

    /// <summary>The prefix of the project's own log categories, which --verbose opens to debug lines.</summary>
    private const string OwnCategories = "T5Gemma2.";

    /// <summary>Adds the two options to <paramref name="root"/>, for it and every subcommand.</summary>
    public static void AddTo(RootCommand root)
    {
        var verbose = new Option<bool>(VerboseName)
        {
            Description = "Also print debug and information messages on stderr (the libraries' details: models loaded, batches, packing)",
            Recursive = true,
        };
        var quiet = new Option<bool>(QuietName)
        {
            Description = "Print only errors on stderr: no warnings (truncated inputs, skipped files, retries)",
            Recursive = true,
        };
        root.Options.Add(verbose);
        root.Options.Add(quiet);
        quiet.Validators.Add(result =>
        {
            // An option's validator runs wherever the option appears; a root command's runs only for the root itself.
            if (result.GetValue(quiet) && result.GetValue(verbose))
            {
                result.AddError($"{VerboseName} and {QuietName} cannot be used together.");
            }
        });
    }

    /// <summary>The minimum level the parsed options ask for.</summary>
    public static LogLevel MinimumLevel(ParseResult parse) =>
        parse.GetValue<bool>(QuietName) ? LogLevel.Error : parse.GetValue<bool>(VerboseName) ? LogLevel.Debug : LogLevel.Warning;

    /// <summary>A factory whose loggers write to <paramref name="error"/> at the level the options ask for.</summary>
    public static ILoggerFactory CreateFactory(ParseResult parse, TextWriter error)
    {
        var minimum = MinimumLevel(parse);

        // --verbose opens our own categories to debug; other libraries (gRPC, the MCP SDK) log every call at debug,
        // which would bury ours, so they stay at information and up.
        var others = minimum < LogLevel.Information ? LogLevel.Information : minimum;
        return LoggerFactory.Create(builder => builder
            .SetMinimumLevel(minimum)
            .AddFilter((category, level) => level >= (category?.StartsWith(OwnCategories, StringComparison.Ordinal) == true ? minimum : others))
            // Qdrant.Client logs every failed call as an error; the store's retry warnings and its one-line error say it once.
            .AddFilter("Qdrant.Client", minimum < LogLevel.Information ? LogLevel.Information : LogLevel.None)
            .AddProvider(new CliLoggerProvider(error)));
    }
}
