using System.CommandLine;
using System.Globalization;
using T5Gemma2.Rag.Cli.Console;

namespace T5Gemma2.Rag.Cli.Commands;

/// <summary><c>t5rag collections list|info|delete</c>.</summary>
internal static class CollectionsCommand
{
    public static Command Create(CliConsole console)
    {
        var collections = new Command("collections", "List, describe or delete collections");

        var listShared = new CollectionOptions();
        var list = new Command("list", "The store's collections, with their sizes");
        listShared.AddTo(list, withModel: false);
        list.SetAction(async (parse, cancellationToken) =>
        {
            var settings = listShared.Settings(parse, console.LoggerFactory);
            using var store = listShared.OpenStore(parse, settings, console.LoggerFactory);
            var rows = new List<string[]>();
            foreach (string name in await store.ListCollectionsAsync(cancellationToken))
            {
                var info = await (await store.OpenCollectionAsync(name, cancellationToken))!.GetInfoAsync(cancellationToken);
                rows.Add([name, info.Documents.ToString("N0", CultureInfo.InvariantCulture), info.Passages.ToString("N0", CultureInfo.InvariantCulture), info.Settings.ModelId, info.Settings.Dimensions.ToString(CultureInfo.InvariantCulture), Prompt(info.Settings.QueryPrompt), Prompt(info.Settings.PassagePrompt)]);
            }

            console.WriteTable($"collections in {store.Location}", ["collection", "documents", "passages", "model", "dimensions", "query prompt", "passage prompt"], rows);
            return ExitCodes.Success;
        });

        var infoShared = new CollectionOptions();
        var infoName = new Argument<string?>("name") { Description = "Collection (default: the configured one)", Arity = ArgumentArity.ZeroOrOne };
        var info = new Command("info", "One collection's model, sizes and location") { infoName };
        infoShared.AddTo(info, withModel: false);
        info.SetAction(async (parse, cancellationToken) =>
        {
            var settings = infoShared.Settings(parse, console.LoggerFactory);
            using var store = infoShared.OpenStore(parse, settings, console.LoggerFactory);
            string name = parse.GetValue(infoName) ?? infoShared.CollectionName(parse, settings);
            var collection = await store.OpenCollectionAsync(name, cancellationToken) ?? throw new UsageException($"no collection '{name}' in {store.Location}.");
            var details = await collection.GetInfoAsync(cancellationToken);
            await console.Out.WriteLineAsync($"collection: {details.Name}");
            await console.Out.WriteLineAsync($"location: {details.Location}");
            await console.Out.WriteLineAsync($"model: {details.Settings.ModelId} ({details.Settings.Dimensions} dimensions)");
            await console.Out.WriteLineAsync($"prompts: query {Prompt(details.Settings.QueryPrompt)}; passage {Prompt(details.Settings.PassagePrompt)}");
            await console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"documents: {details.Documents:N0}; passages: {details.Passages:N0}"));
            await console.Out.WriteLineAsync($"created: {details.CreatedAt:u}");
            return ExitCodes.Success;
        });

        var deleteShared = new CollectionOptions();
        var deleteName = new Argument<string>("name") { Description = "Collection to delete" };
        var delete = new Command("delete", "Delete a collection and its files (or its Qdrant collection)") { deleteName };
        deleteShared.AddTo(delete, withModel: false);
        delete.SetAction(async (parse, cancellationToken) =>
        {
            var settings = deleteShared.Settings(parse, console.LoggerFactory);
            using var store = deleteShared.OpenStore(parse, settings, console.LoggerFactory);
            string name = parse.GetValue(deleteName)!;
            if (!await store.DeleteCollectionAsync(name, cancellationToken))
            {
                throw new UsageException($"no collection '{name}' in {store.Location}.");
            }

            await console.Out.WriteLineAsync($"deleted collection '{name}'");
            return ExitCodes.Success;
        });

        collections.Subcommands.Add(list);
        collections.Subcommands.Add(info);
        collections.Subcommands.Add(delete);
        return collections;
    }

    // Collections made before prompts were recorded say so, rather than pretending they used none.
    private static string Prompt(string? prompt) => prompt is null ? "(not recorded)" : $"\"{prompt}\"";
}
