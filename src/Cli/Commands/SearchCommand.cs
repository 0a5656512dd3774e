using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.AI;
using T5Gemma2.Rag.Cli.Console;
using T5Gemma2.Rag.Encoder.Embeddings;
using T5Gemma2.Rag.Indexer.Stores;

namespace T5Gemma2.Rag.Cli.Commands;

/// <summary><c>t5rag search</c>: the best passages of a collection for a query, with score, source, section/page and a snippet.</summary>
internal static class SearchCommand
{
    public static Command Create(CliConsole console)
    {
        var shared = new CollectionOptions();
        var query = new Argument<string>("query") { Description = "What to look for" };
        var top = new Option<int?>("--top", "-k") { Description = "How many passages (default: t5rag.json search.top, or 10)" };
        var mode = new Option<string?>("--mode") { Description = "dense, keyword or hybrid (default: t5rag.json search.mode, or hybrid)" };
        var filters = new Option<string[]>("--filter") { Description = "doc=<id>, source=<prefix>, tag.<key>=<value>, after=<date>; repeat to combine (AND; several doc= are OR)", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [] };
        var fusion = new Option<FusionMethod>("--fusion") { Description = "Hybrid: ReciprocalRank (k = 60) or Convex (min-max normalized scores)", DefaultValueFactory = _ => FusionMethod.ReciprocalRank };
        var denseWeight = new Option<double>("--dense-weight") { Description = "Convex fusion: the dense side's weight in [0, 1]", DefaultValueFactory = _ => 0.5 };
        var json = new Option<bool>("--json") { Description = "Print the hits as JSON" };
        var command = new Command("search", "Search a collection") { query, top, mode, filters, fusion, denseWeight, json };
        shared.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var settings = shared.Settings(parse, console.LoggerFactory);
            var searchMode = parse.GetValue(mode) is { } m ? ParseMode(m) : settings.SearchMode;
            int count = parse.GetValue(top) ?? settings.SearchTop;
            if (count < 1)
            {
                throw new UsageException($"--top {count}: expected at least 1.");
            }

            if (parse.GetValue(denseWeight) is < 0 or > 1 or double.NaN)
            {
                throw new UsageException($"--dense-weight {parse.GetValue(denseWeight)}: expected a number within [0, 1].");
            }

            var filter = ParseFilter(parse.GetValue(filters)!);
            using var store = shared.OpenStore(parse, settings, console.LoggerFactory);
            string name = shared.CollectionName(parse, settings);
            var collection = await store.OpenCollectionAsync(name, cancellationToken)
                ?? throw new UsageException($"no collection '{name}' in {CollectionOptions.Describe(store)}; index into it first (t5rag index <paths> --collection {name}).");

            string text = parse.GetValue(query)!;
            ReadOnlyMemory<float>? vector = null;
            if (searchMode != SearchMode.Keyword)
            {
                using var generator = OnnxEmbeddingGenerator.Create(shared.ModelPath(parse, settings), new OnnxEmbeddingGeneratorOptions { Session = shared.Session(parse, settings) }, console.LoggerFactory);
                ModelMismatchException.ThrowIfDiffers(name, collection.Settings, new CollectionSettings(generator.Dimensions, generator.Model.ModelId));

                var embedding = await generator.GenerateAsync([text], new EmbeddingGenerationOptions().WithInputKind(EmbeddingInputKind.Query), cancellationToken);
                vector = embedding[0].Vector;
            }

            var hits = await collection.SearchAsync(new SearchRequest(searchMode, count) { Vector = vector, Text = text, Filter = filter, Fusion = parse.GetValue(fusion), DenseWeight = parse.GetValue(denseWeight) }, cancellationToken);
            if (parse.GetValue(json))
            {
                await console.Out.WriteLineAsync(CliJson.Serialize(hits.Select((h, i) => new
                {
                    rank = i + 1,
                    score = h.Score,
                    dense_rank = h.DenseRank,
                    keyword_rank = h.KeywordRank,
                    id = h.Passage.Id,
                    document_id = h.Passage.DocumentId,
                    source = h.Passage.Source,
                    title = h.Passage.Title,
                    section = h.Passage.SectionPath,
                    page = h.Passage.Page,
                    start = h.Passage.Start,
                    length = h.Passage.Length,
                    tags = h.Passage.Tags,
                    text = h.Passage.Text,
                })));
                return ExitCodes.Success;
            }

            if (hits.Count == 0)
            {
                await console.Out.WriteLineAsync("no passages found");
            }

            for (int i = 0; i < hits.Count; i++)
            {
                var p = hits[i].Passage;
                string where = (p.SectionPath is { } section ? $"  § {section}" : "") + (p.Page is { } page ? $"  p. {page}" : "");
                await console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{i + 1,2}. {hits[i].Score:F4}  {p.Source}{where}"));
                await console.Out.WriteLineAsync($"    {Snippet(p.Text)}");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    internal static PassageFilter ParseFilter(IEnumerable<string> values)
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

    private static SearchMode ParseMode(string value) =>
        Enum.TryParse<SearchMode>(value, ignoreCase: true, out var mode) && Enum.IsDefined(mode)
            ? mode
            : throw new UsageException($"--mode \"{value}\": expected dense, keyword or hybrid.");

    private static string Snippet(string text)
    {
        string flat = string.Join(' ', text.Split((char[])[' ', '\n', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries));
        return flat.Length <= 200 ? flat : flat[..200] + "…";
    }
}
