using System.CommandLine;
using System.Globalization;
using T5Gemma2.Rag.Cli.Console;
using T5Gemma2.Rag.Server.Data;
using T5Gemma2.Rag.Server.Hosting;
using T5Gemma2.Rag.Server.Security;

namespace T5Gemma2.Rag.Cli.Commands;

/// <summary><c>t5rag keys create|list|revoke</c>: the service's API keys, in the service database <c>t5rag serve</c> reads.</summary>
internal static class KeysCommand
{
    public static Command Create(CliConsole console)
    {
        var keys = new Command("keys", "Create, list or revoke the API keys of t5rag serve");

        var createShared = new CollectionOptions();
        var createDatabase = ServeCommand.ServiceDatabaseOption();
        var name = new Option<string>("--name") { Description = "A label for the key (unique; what revoke takes)", Required = true };
        var collections = new Option<string>("--collections") { Description = "The collections the key may use, comma-separated, or * for every collection", Required = true };
        var role = new Option<ApiKeyRole>("--role") { Description = "reader (search, ask), writer (also upload and delete documents) or admin (also collections and keys)", DefaultValueFactory = _ => ApiKeyRole.Reader };
        var create = new Command("create", "Create a key and print it once (only its hash is kept)") { createDatabase, name, collections, role };
        createShared.AddTo(create, withModel: false);
        create.SetAction(async (parse, cancellationToken) =>
        {
            var store = Store(createShared, createDatabase, parse, console);
            try
            {
                var (key, record) = store.Create(parse.GetValue(name)!, parse.GetValue(role), parse.GetValue(collections)!.Split(','));
                await console.Out.WriteLineAsync(key);
                await console.Error.WriteLineAsync($"t5rag keys: created '{record.Name}' ({record.Role.ToString().ToLowerInvariant()} of {string.Join(", ", record.Collections)}). The key above is shown once; keep it secret.");
                return ExitCodes.Success;
            }
            catch (ArgumentException ex)
            {
                throw UsageException.From(ex);
            }
        });

        var listShared = new CollectionOptions();
        var listDatabase = ServeCommand.ServiceDatabaseOption();
        var list = new Command("list", "The keys: names, roles, collections, created and revoked (never the keys)") { listDatabase };
        listShared.AddTo(list, withModel: false);
        list.SetAction(parse =>
        {
            var store = Store(listShared, listDatabase, parse, console);
            console.WriteTable(
                "API keys",
                ["name", "key", "role", "collections", "created", "revoked"],
                store.List().Select(k => new[] { k.Name, k.Prefix + "…", k.Role.ToString().ToLowerInvariant(), string.Join(",", k.Collections), k.CreatedAt.ToString("u", CultureInfo.InvariantCulture), k.RevokedAt?.ToString("u", CultureInfo.InvariantCulture) ?? "" }));
            return ExitCodes.Success;
        });

        var revokeShared = new CollectionOptions();
        var revokeDatabase = ServeCommand.ServiceDatabaseOption();
        var revokeName = new Argument<string>("name") { Description = "The key's name" };
        var revoke = new Command("revoke", "Revoke a key: it stops working at once, on every replica") { revokeDatabase, revokeName };
        revokeShared.AddTo(revoke, withModel: false);
        revoke.SetAction(async (parse, cancellationToken) =>
        {
            var store = Store(revokeShared, revokeDatabase, parse, console);
            string key = parse.GetValue(revokeName)!;
            if (!store.Revoke(key))
            {
                throw new UsageException($"no active key named '{key}'; t5rag keys list shows them.");
            }

            await console.Error.WriteLineAsync($"t5rag keys: revoked '{key}'.");
            return ExitCodes.Success;
        });

        keys.Subcommands.Add(create);
        keys.Subcommands.Add(list);
        keys.Subcommands.Add(revoke);
        return keys;
    }

    private static ApiKeyStore Store(CollectionOptions shared, Option<string?> database, ParseResult parse, CliConsole console)
    {
        var settings = shared.Settings(parse, console.LoggerFactory);
        var options = new KnowledgeBaseServerOptions { Store = shared.StorePath(parse, settings), ServiceDatabase = parse.GetValue(database) };
        return new ApiKeyStore(ServiceDatabase.Open(options.ResolveServiceDatabase()));
    }
}
