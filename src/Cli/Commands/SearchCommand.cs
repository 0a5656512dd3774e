using System.CommandLine;
using System.Globalization;
using T5Gemma2.Rag.Cli.Console;
using T5Gemma2.Rag.Indexer.Documents;
using T5Gemma2.Rag.Indexer.Stores;

namespace T5Gemma2.Rag.Cli.Commands;

/// <summary>
/// <c>t5rag search</c>: the best passages of a collection for a query, with score, source, section/page and a snippet;
/// retrieved as ask retrieves them (<see cref="Retrieval.PassageRetriever"/>: merging, per-document cap, reranking).
/// </summary>
internal static class SearchCommand
{
    public static Command Create(CliConsole console)
    {
        var shared = new CollectionOptions();
        var retrieval = new RetrievalCommandOptions();
        var query = new Argument<string>("query") { Description = "What to look for" };
        var json = new Option<bool>("--json") { Description = "Print the hits as JSON" };
        var command = new Command("search", "Search a collection") { query, json };
        retrieval.AddTo(command);
        shared.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var settings = shared.Settings(parse, console.LoggerFactory);
            var options = retrieval.Build(parse, settings, settings.SearchTop);
            string text = parse.GetValue(query)!;
            if (string.IsNullOrWhiteSpace(text))
            {
                throw new UsageException("the query is empty.");
            }

            using var store = shared.OpenStore(parse, settings, console.LoggerFactory);
            string name = shared.CollectionName(parse, settings);
            var collection = await store.OpenCollectionAsync(name, cancellationToken)
                ?? throw new UsageException($"no collection '{name}' in {store.Location}; index into it first (t5rag index <paths> --collection {name}).");

            // Keyword search embeds nothing, so it needs no model unless the decoder reranks.
            string? embeddingModel = options.Mode == SearchMode.Keyword ? null : shared.ModelPath(parse, settings);
            string? generatorModel = retrieval.RerankerPath(parse, options, parse.GetValue(shared.Model) ?? settings.Model);
            using var models = RetrievalModels.Load(embeddingModel, generatorModel, shared.Embedding(parse, settings, collection.Settings, embeddingModel), console.LoggerFactory);
            models.ThrowIfMismatched(name, collection);

            var hits = await models.Retriever(collection).RetrieveAsync(text, options, cancellationToken);
            if (parse.GetValue(json))
            {
                await console.Out.WriteLineAsync(CliJson.Serialize(hits.Select((h, i) => new
                {
                    rank = i + 1,
                    score = h.Score,
                    dense_rank = h.DenseRank,
                    keyword_rank = h.KeywordRank,
                    id = h.PassageIds[0],
                    passage_ids = h.PassageIds,
                    document_id = h.DocumentId,
                    source = h.Source,
                    title = h.Title,
                    section = h.SectionPath,
                    page = h.Page,
                    kind = h.Kind == PassageKind.Image ? "image" : "text",
                    media_type = h.Image?.MediaType,
                    start = h.Start,
                    length = h.Length,
                    tags = h.Tags,
                    text = h.Text,
                })));
                return ExitCodes.Success;
            }

            if (hits.Count == 0)
            {
                await console.Out.WriteLineAsync("no passages found");
            }

            for (int i = 0; i < hits.Count; i++)
            {
                var p = hits[i];
                string where = (p.SectionPath is { } section ? $"  § {section}" : "") + (p.Page is { } page ? $"  p. {page}" : "")
                    + (p.Kind == PassageKind.Image ? $"  [image {p.Image?.MediaType}]" : "");
                await console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{i + 1,2}. {p.Score:F4}  {p.Source}{where}"));
                await console.Out.WriteLineAsync($"    {p.Snippet()}");
            }

            return ExitCodes.Success;
        });
        return command;
    }
}
