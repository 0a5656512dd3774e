using System.CommandLine;
using Microsoft.Extensions.Logging;
using T5Gemma2.Rag.Cli.Configuration;
using T5Gemma2.Rag.Encoder.Embeddings;
using T5Gemma2.Rag.Encoder.Models;
using T5Gemma2.Rag.Encoder.Onnx;
using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Indexer.Stores.Qdrant;

namespace T5Gemma2.Rag.Cli.Commands;

/// <summary>The options every store command shares (--model with --threads and --device, --store, --collection, --config), resolved against <see cref="T5RagSettings"/>.</summary>
internal sealed class CollectionOptions
{
    public Option<string?> Model { get; } = new("--model", "-m") { Description = "Embedding model directory (default: t5rag.json \"model\" or T5RAG_MODEL)" };

    public Option<string?> Store { get; } = new("--store")
    {
        Description = "Store directory, or a Qdrant server: qdrant://host:6334[?collection=name], qdrants:// (TLS), or qdrant for t5rag.json qdrant.url / QDRANT_URL (default: t5rag.json \"store\", T5RAG_STORE, or .t5rag)",
    };

    public Option<string?> Collection { get; } = new("--collection", "-c") { Description = "Collection name (default: the store URL's ?collection=, t5rag.json \"collection\", T5RAG_COLLECTION, or default)" };

    public Option<string?> Config { get; } = new("--config") { Description = "Settings file (default: ./t5rag.json, or T5RAG_CONFIG)" };

    /// <summary>--threads and --device, for the commands that load a model.</summary>
    public RuntimeOptions Runtime { get; } = new();

    /// <summary>--dimensions: the collection's vector length, a Matryoshka cut of the model's.</summary>
    public Option<int?> Dimensions { get; } = new("--dimensions") { Description = "Vector length: the model's leading components, renormalised (Matryoshka; e.g. 256 of EmbeddingGemma's 768). Index and search one collection with the same value" };

    public void AddTo(Command command, bool withModel = true)
    {
        if (withModel)
        {
            command.Options.Add(this.Model);
            command.Options.Add(this.Dimensions);
            this.Runtime.AddTo(command);
        }

        command.Options.Add(this.Store);
        command.Options.Add(this.Collection);
        command.Options.Add(this.Config);
    }

    /// <summary>The settings: --config's file (else T5RAG_CONFIG's, else ./t5rag.json) under the environment; a warning about the file goes to <paramref name="loggerFactory"/>.</summary>
    public T5RagSettings Settings(ParseResult parse, ILoggerFactory loggerFactory) => T5RagSettings.Load(loggerFactory, parse.GetValue(this.Config));

    /// <summary>How the command's models run: --threads (else the settings', else every core) and --device.</summary>
    public OnnxSessionOptions Session(ParseResult parse, T5RagSettings settings) => this.Runtime.Session(parse, settings);

    /// <summary>How the embedding model runs: the session and the vector length.</summary>
    /// <param name="recorded">The settings of the collection the command uses, when it exists.</param>
    /// <param name="modelPath">The embedding model directory, to tell whether <paramref name="recorded"/> is its collection.</param>
    /// <remarks>
    /// The length is --dimensions, else the settings' "dimensions" (T5RAG_DIMENSIONS), else the length the collection
    /// recorded when the same model built it, so that <c>search</c> after <c>index --dimensions 256</c> needs no flag.
    /// A length given explicitly and other than the recorded one, or another model, meets the mismatch line.
    /// </remarks>
    public OnnxEmbeddingGeneratorOptions Embedding(ParseResult parse, T5RagSettings settings, CollectionSettings? recorded = null, string? modelPath = null) => new()
    {
        Session = this.Session(parse, settings),
        Dimensions = this.DimensionsGiven(parse, settings)
            ?? (recorded is not null && modelPath is not null && ModelDirectory.Open(modelPath).ModelId == recorded.ModelId ? recorded.Dimensions : null),
    };

    /// <summary>--dimensions, else the settings' "dimensions"; null when neither sets it.</summary>
    public int? DimensionsGiven(ParseResult parse, T5RagSettings settings) => parse.GetValue(this.Dimensions) ?? settings.Dimensions;

    /// <summary>The store location: --store, else the settings' (a directory, or a Qdrant URL).</summary>
    public string StorePath(ParseResult parse, T5RagSettings settings) => ResolveLocation(parse.GetValue(this.Store) ?? settings.Store, settings);

    /// <summary>--collection, else the collection the store URL names, else the settings'.</summary>
    public string CollectionName(ParseResult parse, T5RagSettings settings) =>
        parse.GetValue(this.Collection) ?? AsUsage(() => PassageStores.CollectionOf(this.StorePath(parse, settings))) ?? settings.Collection;

    /// <summary>The store the options name; <paramref name="configureQdrant"/> adjusts a Qdrant store's options (shards, replicas).</summary>
    public IPassageStore OpenStore(ParseResult parse, T5RagSettings settings, ILoggerFactory loggerFactory, Func<QdrantStoreOptions, QdrantStoreOptions>? configureQdrant = null) =>
        Open(this.StorePath(parse, settings), settings, loggerFactory, configureQdrant);

    /// <summary>The model directory, or a usage error naming the three ways to give one.</summary>
    public string ModelPath(ParseResult parse, T5RagSettings settings) =>
        parse.GetValue(this.Model) ?? settings.Model
        ?? throw new UsageException("no embedding model: give --model <dir>, set \"model\" in t5rag.json, or set T5RAG_MODEL.");

    /// <summary>The bare word "qdrant" becomes the configured server (t5rag.json qdrant.url or QDRANT_URL; else the local default).</summary>
    public static string ResolveLocation(string location, T5RagSettings settings) =>
        location.Equals(QdrantStoreLocation.Keyword, StringComparison.OrdinalIgnoreCase) && settings.QdrantUrl is { } url ? url : location;

    /// <summary>Opens a store location with the settings' Qdrant API key (a key in the environment wins, as everywhere in the settings).</summary>
    public static IPassageStore Open(string location, T5RagSettings settings, ILoggerFactory loggerFactory, Func<QdrantStoreOptions, QdrantStoreOptions>? configureQdrant = null) =>
        AsUsage(() => PassageStores.Open(ResolveLocation(location, settings), loggerFactory, options =>
        {
            var configured = options with { ApiKey = settings.QdrantApiKey ?? options.ApiKey };
            return configureQdrant is null ? configured : configureQdrant(configured);
        }));

    /// <summary>A malformed store URL is a command-line mistake (exit 2), not a broken store.</summary>
    private static T AsUsage<T>(Func<T> open)
    {
        try
        {
            return open();
        }
        catch (StoreException ex) when (ex.InnerException is FormatException)
        {
            throw new UsageException(ex.Message);
        }
    }
}
