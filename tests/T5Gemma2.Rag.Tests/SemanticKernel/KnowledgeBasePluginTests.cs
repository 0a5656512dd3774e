using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.SemanticKernel;
using T5Gemma2.Rag.DependencyInjection;
using T5Gemma2.Rag.Encoder;
using T5Gemma2.Rag.Encoder.Generation;
using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Indexer.Stores.Embedded;
using T5Gemma2.Rag.SemanticKernel;
using T5Gemma2.Rag.Tests.Infrastructure;
using T5Gemma2.Rag.Tests.Pipeline;

namespace T5Gemma2.Rag.Tests.SemanticKernel;

/// <summary>
/// The plugin's functions invoked through a real Kernel built by AddT5Gemma2Rag: MiniLM retrieval over a real embedded
/// store, answers from the tiny random T5Gemma 2 (noise, but every stage real), and one clear message per bad input.
/// </summary>
public sealed class KnowledgeBasePluginTests(SharedMiniLm miniLm, SharedTinyT5Gemma2 tiny) : IDisposable
{
    private const string Lighthouse = "The lighthouse keeper of Vellmar Point feeds seventeen cats every morning before the fishing boats leave the harbour.";

    private readonly TempDirectory _directory = new();

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        this._directory.Dispose();
    }

    [Fact]
    public async Task IndexesAFolderThenSearchesAndAnswersThroughTheKernel()
    {
        var records = TestCorpus.Records(12);
        string docs = this._directory.Combine("docs");
        TestCorpus.WriteMarkdown(docs, records);
        await using var sut = KnowledgeKernel.Create(miniLm.Generator, this._directory.Combine("store"), o =>
        {
            o.GeneratorModelDirectory = tiny.ConvertedDirectory;
            o.Generation = new GenerationOptions { MaxNewTokens = 6, MinNewTokens = 6 };
        });

        var plugin = sut.Kernel.Plugins["knowledge"];
        Assert.Equal(["ask", "forget_document", "index_file", "index_text", "search"], plugin.Select(f => f.Name).Order(StringComparer.Ordinal));
        Assert.All(plugin, f => Assert.False(string.IsNullOrWhiteSpace(f.Description)));
        Assert.All(plugin.SelectMany(f => f.Metadata.Parameters), p => Assert.False(string.IsNullOrWhiteSpace(p.Description), p.Name));
        Assert.True(plugin["search"].Metadata.Parameters.Single(p => p.Name == "query").IsRequired);
        Assert.False(plugin["search"].Metadata.Parameters.Single(p => p.Name == "top").IsRequired);

        var indexed = await sut.InvokeAsync<IndexResult>("index_file", new() { ["path"] = docs });
        Assert.Null(indexed.Error);
        Assert.Equal(12, indexed.DocumentsNew);
        Assert.True(indexed.PassagesIndexed >= 12);
        Assert.Empty(indexed.Failures);
        var again = await sut.InvokeAsync<IndexResult>("index_file", new() { ["path"] = docs });
        Assert.Equal((0, 12, 0L), (again.DocumentsNew, again.DocumentsUnchanged, again.PassagesIndexed));

        // Arguments as a model sends them: text.
        var found = await sut.InvokeAsync<SearchResults>("search", new() { ["query"] = records[4].Title, ["top"] = "3" });
        Assert.Null(found.Error);
        Assert.InRange(found.Passages.Count, 1, 3);
        Assert.Equal((1, records[4].Title), (found.Passages[0].Rank, found.Passages[0].Title));
        Assert.EndsWith("0004.md", found.Passages[0].Source, StringComparison.Ordinal);
        Assert.Contains(records[4].Text[..40], found.Passages[0].Text, StringComparison.Ordinal);

        string source = found.Passages[0].Source;
        var narrowed = await sut.InvokeAsync<SearchResults>("search", new() { ["query"] = records[9].Title, ["source"] = source });
        Assert.All(narrowed.Passages, p => Assert.Equal(source, p.Source));

        var answer = await sut.InvokeAsync<AnswerResult>("ask", new() { ["question"] = $"Tell me about {records[4].Title}", ["top"] = 3 });
        Assert.Null(answer.Error);
        Assert.False(string.IsNullOrWhiteSpace(answer.Answer));
        Assert.InRange(answer.Citations.Count, 1, 3);
        Assert.Equal(records[4].Title, answer.Citations[0].Title);
        Assert.EndsWith("0004.md", answer.Citations[0].Source, StringComparison.Ordinal);

        // What a function-calling host sends the model: the record as JSON, sources included.
        using var json = JsonDocument.Parse(JsonSerializer.Serialize(found));
        Assert.Equal(source, json.RootElement.GetProperty("Passages")[0].GetProperty("Source").GetString());
    }

    [Fact]
    public async Task IndexTextIsFoundBySearchAndForgetDocumentRemovesIt()
    {
        string docs = this._directory.Combine("docs");
        TestCorpus.WriteMarkdown(docs, TestCorpus.Records(6));
        await using var sut = KnowledgeKernel.Create(miniLm.Generator, this._directory.Combine("store"));
        await sut.InvokeAsync<IndexResult>("index_file", new() { ["path"] = docs });

        var indexed = await sut.InvokeAsync<IndexResult>("index_text", new() { ["text"] = Lighthouse, ["documentId"] = "note-1", ["title"] = "Vellmar Point", ["source"] = "https://example.org/notes/1" });
        Assert.Equal(("note-1", 1, 1L), (indexed.DocumentId, indexed.DocumentsNew, indexed.PassagesIndexed));

        var found = await sut.InvokeAsync<SearchResults>("search", new() { ["query"] = "Who feeds the cats at the lighthouse?", ["top"] = 3 });
        var first = found.Passages[0];
        Assert.Equal(("note-1", "https://example.org/notes/1", "Vellmar Point", Lighthouse), (first.DocumentId, first.Source, first.Title, first.Text));

        var unnamed = await sut.InvokeAsync<IndexResult>("index_text", new() { ["text"] = "Tide tables for the harbour are posted at the ferry office." });
        Assert.StartsWith("text-", unnamed.DocumentId, StringComparison.Ordinal);
        var same = await sut.InvokeAsync<IndexResult>("index_text", new() { ["text"] = "Tide tables for the harbour are posted at the ferry office." });
        Assert.Equal((unnamed.DocumentId, 0, 1), (same.DocumentId, same.DocumentsNew, same.DocumentsUnchanged));

        var forgotten = await sut.InvokeAsync<ForgetResult>("forget_document", new() { ["documentId"] = "note-1" });
        Assert.Equal(("note-1", true, (string?)null), (forgotten.DocumentId, forgotten.Removed, forgotten.Error));
        var after = await sut.InvokeAsync<SearchResults>("search", new() { ["query"] = "Who feeds the cats at the lighthouse?", ["top"] = 10 });
        Assert.DoesNotContain(after.Passages, p => p.DocumentId == "note-1");

        var twice = await sut.InvokeAsync<ForgetResult>("forget_document", new() { ["documentId"] = "note-1" });
        Assert.False(twice.Removed);
        Assert.Contains("no document 'note-1' in collection 'kb'", twice.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadInputGetsOneClearMessageEach()
    {
        await using var sut = KnowledgeKernel.Create(miniLm.Generator, this._directory.Combine("store"), o =>
        {
            o.GeneratorModelDirectory = tiny.ConvertedDirectory;
            o.Generation = new GenerationOptions { MaxNewTokens = 2 };
            o.FileRoots = [this._directory.Combine("allowed")];
        });

        // An empty collection.
        Assert.Contains("collection 'kb' is empty", (await sut.InvokeAsync<SearchResults>("search", new() { ["query"] = "ships" })).Error, StringComparison.Ordinal);
        Assert.Contains("collection 'kb' is empty", (await sut.InvokeAsync<AnswerResult>("ask", new() { ["question"] = "ships?" })).Error, StringComparison.Ordinal);

        // Empty input.
        Assert.Equal("the query is empty; give a question or keywords to search for.", (await sut.InvokeAsync<SearchResults>("search", new() { ["query"] = "  " })).Error);
        Assert.Equal("the question is empty; ask a question in words.", (await sut.InvokeAsync<AnswerResult>("ask", new() { ["question"] = "" })).Error);
        Assert.Equal("the text is empty; give the text to add.", (await sut.InvokeAsync<IndexResult>("index_text", new() { ["text"] = "\n" })).Error);
        Assert.Contains("the document id is empty", (await sut.InvokeAsync<ForgetResult>("forget_document", new() { ["documentId"] = " " })).Error, StringComparison.Ordinal);
        Assert.Equal("top 0: expected 1 to 50.", (await sut.InvokeAsync<SearchResults>("search", new() { ["query"] = "ships", ["top"] = 0 })).Error);

        // Paths: missing, and outside the allowed folders.
        string missing = this._directory.Combine("allowed", "missing");
        Assert.Equal($"no file or folder at '{missing}'.", (await sut.InvokeAsync<IndexResult>("index_file", new() { ["path"] = missing })).Error);
        string outside = this._directory.Write("elsewhere/secret.md", "# Secret\n\nnot for the index\n");
        Assert.Contains("is outside the allowed folders", (await sut.InvokeAsync<IndexResult>("index_file", new() { ["path"] = outside })).Error, StringComparison.Ordinal);

        // A filter that matches nothing.
        await sut.InvokeAsync<IndexResult>("index_text", new() { ["text"] = Lighthouse, ["documentId"] = "note-1" });
        var filtered = await sut.InvokeAsync<SearchResults>("search", new() { ["query"] = "cats", ["source"] = "/nowhere/" });
        Assert.Empty(filtered.Passages);
        Assert.Equal("no passage of collection 'kb' matches the filter (source starting with '/nowhere/'); check the source prefix or document id, or search without them.", filtered.Error);
        Assert.Contains("matches the filter (document 'note-2')", (await sut.InvokeAsync<AnswerResult>("ask", new() { ["question"] = "cats?", ["documentId"] = "note-2" })).Error, StringComparison.Ordinal);

        // No answering model.
        await using var searchOnly = KnowledgeKernel.Create(miniLm.Generator, this._directory.Combine("store2"));
        var noModel = await searchOnly.InvokeAsync<AnswerResult>("ask", new() { ["question"] = "cats?" });
        Assert.Null(noModel.Answer);
        Assert.StartsWith("ask is not available: no answering model is configured", noModel.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void AnEncoderOnlyModelAskedToAnswerIsRefusedWhenTheKernelIsBuilt()
    {
        var bert = Assert.Throws<ModelFileException>(() => this.BuildWithGenerator(TestAssets.MiniLmDirectory));
        Assert.Contains("expected a T5Gemma 2 conversion", bert.Message, StringComparison.Ordinal);

        string encoderOnly = this._directory.Combine("encoder-only");
        Directory.CreateDirectory(Path.Combine(encoderOnly, "onnx"));
        ModelDirectoryCopy.TopLevelFiles(tiny.ConvertedDirectory, encoderOnly);
        File.Copy(Path.Combine(tiny.ConvertedDirectory, "onnx", "encoder_model.onnx"), Path.Combine(encoderOnly, "onnx", "encoder_model.onnx"));
        var t5 = Assert.Throws<ModelFileException>(() => this.BuildWithGenerator(encoderOnly));
        Assert.Contains("this directory holds an encoder only", t5.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACollectionIndexedWithAnotherModelIsRefusedAsDataNamingBoth()
    {
        string store = this._directory.Combine("store");
        using (var other = EmbeddedPassageStore.Open(store))
        {
            await other.OpenOrCreateCollectionAsync("kb", new CollectionSettings(768, "google/t5gemma-2-270m-270m"), TestContext.Current.CancellationToken);
        }

        // Each function returns the refusal to the model word for word instead of throwing out of the kernel.
        string expected = $"collection 'kb' holds 768-dimension vectors of model 'google/t5gemma-2-270m-270m'; the model given makes 384-dimension vectors as '{miniLm.Generator.Model.ModelId}'. Use another collection, or the same model and vector length.";
        await using var sut = KnowledgeKernel.Create(miniLm.Generator, store, o => o.GeneratorModelDirectory = tiny.ConvertedDirectory);
        var search = await sut.InvokeAsync<SearchResults>("search", new() { ["query"] = "ships" });
        Assert.Equal(expected, search.Error);
        Assert.Empty(search.Passages);
        var asked = await sut.InvokeAsync<AnswerResult>("ask", new() { ["question"] = "Where do ships sail?" });
        Assert.Equal(expected, asked.Error);
        var indexed = await sut.InvokeAsync<IndexResult>("index_text", new() { ["text"] = "Ships sail the sea." });
        Assert.Equal(expected, indexed.Error);
        string file = this._directory.Write("docs/ships.md", "# Ships\n\nShips sail the sea.\n");
        var indexedFile = await sut.InvokeAsync<IndexResult>("index_file", new() { ["path"] = file });
        Assert.Equal(expected, indexedFile.Error);
        var forgot = await sut.InvokeAsync<ForgetResult>("forget_document", new() { ["documentId"] = "doc" });
        Assert.Equal(expected, forgot.Error);
        Assert.False(forgot.Removed);

        using var check = EmbeddedPassageStore.Open(store);
        var info = await (await check.OpenCollectionAsync("kb", TestContext.Current.CancellationToken))!.GetInfoAsync(TestContext.Current.CancellationToken);
        Assert.Equal((0L, 768), (info.Passages, info.Settings.Dimensions));
    }

    [Fact]
    public async Task KnowledgeBaseOptionsDimensionsCutEveryEmbeddingAndAnotherLengthIsRefusedAsData()
    {
        string store = this._directory.Combine("store");
        await using (var cut = BuildWithDimensions(store, 128))
        {
            var indexed = await cut.InvokeAsync<IndexResult>("index_text", new() { ["text"] = Lighthouse });
            Assert.Null(indexed.Error);
            var found = await cut.InvokeAsync<SearchResults>("search", new() { ["query"] = "Who feeds the cats at Vellmar Point?" });
            Assert.Null(found.Error);
            Assert.Equal(Lighthouse, found.Passages[0].Text);
        }

        using (var check = EmbeddedPassageStore.Open(store))
        {
            var collection = (await check.OpenCollectionAsync("kb", TestContext.Current.CancellationToken))!;
            Assert.Equal((128, miniLm.Generator.Model.ModelId), (collection.Settings.Dimensions, collection.Settings.ModelId));
        }

        // The model's full 384 against the 128-dimension collection: the mismatch as data, nothing thrown.
        await using var full = BuildWithDimensions(store, null);
        var refused = await full.InvokeAsync<SearchResults>("search", new() { ["query"] = "cats" });
        Assert.StartsWith($"collection 'kb' holds 128-dimension vectors of model '{miniLm.Generator.Model.ModelId}'; the model given makes 384-dimension vectors", refused.Error, StringComparison.Ordinal);
        Assert.Empty(refused.Passages);
    }

    [Fact]
    public void OptionsThatCannotWorkAreRefusedWhenRegistered()
    {
        var services = new ServiceCollection();
        var noModel = Assert.Throws<ArgumentException>(() => services.AddT5Gemma2Rag(o => o.Store = "x"));
        Assert.Contains("EmbeddingModelDirectory is not set", noModel.Message, StringComparison.Ordinal);
        var badName = Assert.Throws<ArgumentException>(() => services.AddT5Gemma2Rag(o => { o.EmbeddingModelDirectory = "m"; o.PluginName = "knowledge base"; }));
        Assert.Contains("PluginName \"knowledge base\"", badName.Message, StringComparison.Ordinal);
    }

    /// <summary>A kernel whose container loads MiniLM itself, so that <see cref="KnowledgeBaseOptions.Dimensions"/> reaches the generator.</summary>
    private static KnowledgeKernel BuildWithDimensions(string store, int? dimensions) => KnowledgeKernel.Create(embedder: null, store, o => o.Dimensions = dimensions);

    private int BuildWithGenerator(string generator)
    {
        var builder = Kernel.CreateBuilder();
        builder.Services.AddSingleton(miniLm.Generator);
        builder.AddT5Gemma2Rag(o =>
        {
            o.EmbeddingModelDirectory = TestAssets.MiniLmDirectory;
            o.GeneratorModelDirectory = generator;
            o.Store = this._directory.Combine("store-" + Guid.NewGuid().ToString("N")[..6]);
        });
        return builder.Build().Plugins.Count;
    }
}
