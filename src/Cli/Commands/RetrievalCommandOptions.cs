using System.CommandLine;
using System.Globalization;
using T5Gemma2.Rag.Cli.Configuration;
using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Retrieval;

namespace T5Gemma2.Rag.Cli.Commands;

/// <summary>
/// The retrieval options of search, ask and eval (--top, --mode, --filter, --fusion, --dense-weight, --rerank,
/// --generator), parsed once into the <see cref="RetrievalOptions"/> their <see cref="PassageRetriever"/> is given, so
/// the same flags retrieve the same passages on every command.
/// </summary>
internal sealed class RetrievalCommandOptions
{
    /// <param name="generatorDescription">What --generator does on this command (ask answers with it too).</param>
    public RetrievalCommandOptions(string generatorDescription = "The T5Gemma 2 model directory whose decoder reranks with --rerank (default: --model)")
    {
        this.Generator = new Option<string?>("--generator", "-g") { Description = generatorDescription };
    }

    public Option<int?> Top { get; } = new("--top", "-k") { Description = "Passages to retrieve (search: default t5rag.json search.top, or 10; ask: 8)" };

    public Option<string?> Mode { get; } = new("--mode") { Description = "dense, keyword or hybrid (default: t5rag.json search.mode, or hybrid)" };

    public Option<string[]> Filters { get; } = new("--filter")
    {
        Description = "doc=<id>, source=<prefix>, tag.<key>=<value>, after=<date>; repeat to combine (AND; several doc= are OR)",
        AllowMultipleArgumentsPerToken = true,
        DefaultValueFactory = _ => [],
    };

    public Option<FusionMethod> Fusion { get; } = new("--fusion")
    {
        Description = "Hybrid: ReciprocalRank (k = 60) or Convex (min-max normalized scores)",
        DefaultValueFactory = _ => RetrievalOptions.Default.Fusion,
    };

    public Option<double> DenseWeight { get; } = new("--dense-weight")
    {
        Description = "Convex fusion: the dense side's weight in [0, 1]",
        DefaultValueFactory = _ => RetrievalOptions.Default.DenseWeight,
    };

    public Option<bool> Rerank { get; } = new("--rerank") { Description = "Reorder the passages by the T5Gemma 2 decoder's log p(query | passage) (needs --generator, or a T5Gemma 2 --model)" };

    public Option<string?> Generator { get; }

    /// <param name="command">The command to add the options to.</param>
    /// <param name="withTopAndMode">False for eval, which ranks to a fixed depth and names its modes (fusion included) itself.</param>
    public void AddTo(Command command, bool withTopAndMode = true)
    {
        if (withTopAndMode)
        {
            command.Options.Add(this.Top);
            command.Options.Add(this.Mode);
            command.Options.Add(this.Fusion);
        }

        command.Options.Add(this.Filters);
        command.Options.Add(this.DenseWeight);
        command.Options.Add(this.Rerank);
        command.Options.Add(this.Generator);
    }

    /// <summary>The retrieval the flags ask for: --top (else <paramref name="defaultTop"/>), --mode (else the settings'), the rest as given.</summary>
    /// <exception cref="UsageException">A value is out of range or malformed; the message names the option.</exception>
    public RetrievalOptions Build(ParseResult parse, T5RagSettings settings, int defaultTop)
    {
        int top = parse.GetValue(this.Top) ?? defaultTop;
        if (top < 1)
        {
            throw new UsageException($"--top {top}: expected at least 1.");
        }

        double denseWeight = parse.GetValue(this.DenseWeight);
        if (denseWeight is < 0 or > 1 or double.NaN)
        {
            throw new UsageException(string.Create(CultureInfo.InvariantCulture, $"--dense-weight {denseWeight}: expected a number within [0, 1]."));
        }

        return new RetrievalOptions
        {
            Top = top,
            Mode = parse.GetValue(this.Mode) is { } mode ? ParseMode(mode) : settings.SearchMode,
            Fusion = parse.GetValue(this.Fusion),
            DenseWeight = denseWeight,
            Filter = ParseFilter(parse.GetValue(this.Filters)!),
            Rerank = parse.GetValue(this.Rerank),
        };
    }

    /// <summary>The T5Gemma 2 directory that reranks when <paramref name="options"/> asks to: --generator, else <paramref name="model"/>; null when nothing reranks.</summary>
    /// <exception cref="UsageException">--rerank without a model to rerank with.</exception>
    public string? RerankerPath(ParseResult parse, RetrievalOptions options, string? model) =>
        !options.Rerank ? null
            : parse.GetValue(this.Generator) ?? model ?? throw new UsageException("--rerank needs a T5Gemma 2 model: give --generator <dir> (or a T5Gemma 2 --model).");

    /// <exception cref="UsageException">Not dense, keyword or hybrid.</exception>
    public static SearchMode ParseMode(string value) =>
        SettingKey.TryParseMode(value, out var mode)
            ? mode
            : throw new UsageException($"--mode \"{value}\": expected dense, keyword or hybrid.");

    /// <exception cref="UsageException">A filter is not one of the four forms.</exception>
    public static PassageFilter ParseFilter(IEnumerable<string> values)
    {
        var documents = new List<string>();
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        string? source = null;
        DateTimeOffset? after = null;
        foreach (string value in values)
        {
            int equals = value.IndexOf('=', StringComparison.Ordinal);
            string key = equals > 0 ? value[..equals] : string.Empty, argument = equals > 0 ? value[(equals + 1)..] : string.Empty;
            switch (key)
            {
                case "doc":
                    documents.Add(argument);
                    break;
                case "source":
                    source = argument;
                    break;
                case "after" when DateTimeOffset.TryParse(argument, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time):
                    after = time;
                    break;
                case var tag when tag.StartsWith("tag.", StringComparison.Ordinal) && tag.Length > 4:
                    tags[tag[4..]] = argument;
                    break;
                default:
                    throw new UsageException($"--filter \"{value}\": expected doc=<id>, source=<prefix>, tag.<key>=<value> or after=<date, e.g. 2026-11-01>.");
            }
        }

        return new PassageFilter { DocumentIds = documents.Count > 0 ? documents : null, SourcePrefix = source, Tags = tags.Count > 0 ? tags : null, IndexedAfter = after };
    }

    /// <summary>The settings in words, for eval's summary: "depth 100 from 100 hits, neighbours merged, at most 3 passages per document".</summary>
    public static string Describe(RetrievalOptions options)
    {
        var parts = new List<string>
        {
            string.Create(CultureInfo.InvariantCulture, $"top {options.Top} from {options.Top * options.CandidateFactor} hits"),
            options.MergeAdjacent ? "neighbouring passages merged" : "passages not merged",
            string.Create(CultureInfo.InvariantCulture, $"at most {options.MaxPassagesPerDocument} passages per document"),
        };
        if (options.Mode == SearchMode.Hybrid && options.Fusion == FusionMethod.Convex)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"dense weight {options.DenseWeight}"));
        }

        if (options.ScoreThreshold is { } threshold)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"score at least {threshold}"));
        }

        if (!options.Filter.IsEmpty)
        {
            parts.Add("filtered");
        }

        parts.Add(options.Rerank ? "reranked by the decoder" : "not reranked");
        return string.Join(", ", parts);
    }
}
