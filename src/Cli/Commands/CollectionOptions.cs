using System.CommandLine;
using T5Gemma2.Rag.Cli.Configuration;

namespace T5Gemma2.Rag.Cli.Commands;

/// <summary>The options every store command shares (--model, --store, --collection, --config), resolved against <see cref="T5RagSettings"/>.</summary>
internal sealed class CollectionOptions
{
    public Option<string?> Model { get; } = new("--model", "-m") { Description = "Embedding model directory (default: t5rag.json \"model\" or T5RAG_MODEL)" };

    public Option<string?> Store { get; } = new("--store") { Description = "Store directory (default: t5rag.json \"store\", T5RAG_STORE, or .t5rag)" };

    public Option<string?> Collection { get; } = new("--collection", "-c") { Description = "Collection name (default: t5rag.json \"collection\", T5RAG_COLLECTION, or default)" };

    public Option<string?> Config { get; } = new("--config") { Description = "Settings file (default: ./t5rag.json, or T5RAG_CONFIG)" };

    public void AddTo(Command command, bool withModel = true)
    {
        if (withModel)
        {
            command.Options.Add(this.Model);
        }

        command.Options.Add(this.Store);
        command.Options.Add(this.Collection);
        command.Options.Add(this.Config);
    }

    public T5RagSettings Settings(ParseResult parse) => T5RagSettings.Load(parse.GetValue(this.Config));

    public string StorePath(ParseResult parse, T5RagSettings settings) => parse.GetValue(this.Store) ?? settings.Store;

    public string CollectionName(ParseResult parse, T5RagSettings settings) => parse.GetValue(this.Collection) ?? settings.Collection;

    /// <summary>The model directory, or a usage error naming the three ways to give one.</summary>
    public string ModelPath(ParseResult parse, T5RagSettings settings) =>
        parse.GetValue(this.Model) ?? settings.Model
        ?? throw new UsageException("no embedding model: give --model <dir>, set \"model\" in t5rag.json, or set T5RAG_MODEL.");
}
