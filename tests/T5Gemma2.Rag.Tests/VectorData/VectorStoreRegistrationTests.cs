using Microsoft.Data.Sqlite;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.VectorData;
using T5Gemma2.Rag.DependencyInjection;
using T5Gemma2.Rag.Encoder.Embeddings;
using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Indexer.VectorData;
using T5Gemma2.Rag.Retrieval;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.VectorData;

/// <summary>
/// AddT5Gemma2VectorStore and AddT5Gemma2VectorStoreCollection in a real container, and the records they write read by
/// our own retriever (one store, one implementation); the README's VectorData sample compiles.
/// </summary>
public sealed class VectorStoreRegistrationTests(SharedMiniLm miniLm, SharedTinySentenceTransformers layouts) : IDisposable
{
    private readonly TempDirectory _directory = new();

    private Indexer.Stores.Embedded.EmbeddedPassageStore EmbeddedPassageStoreFor(string name) => Indexer.Stores.Embedded.EmbeddedPassageStore.Open(this._directory.Combine(name));

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        this._directory.Dispose();
    }

    [Fact]
    public async Task TheRegisteredCollectionEmbedsWithTheRegisteredGeneratorAndOurRetrieverFindsItsRecords()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IEmbeddingGenerator<string, Embedding<float>>>(miniLm.Generator);
        services.AddT5Gemma2VectorStore(this._directory.Combine("store"));
        services.AddT5Gemma2VectorStoreCollection<Guid, Note>("notes");
        await using var provider = services.BuildServiceProvider();

        var notes = provider.GetRequiredService<VectorStoreCollection<Guid, Note>>();
        Assert.IsType<T5Gemma2VectorStore>(provider.GetRequiredService<VectorStore>());
        Assert.Same(notes, provider.GetRequiredService<IVectorSearchable<Note>>());
        Assert.Same(notes, provider.GetRequiredService<IKeywordHybridSearchable<Note>>());
        await notes.EnsureCollectionExistsAsync(TestContext.Current.CancellationToken);
        string[] texts = ["Backups run nightly at two and are kept for thirty days.", "The cafeteria serves soup on Fridays."];
        await notes.UpsertAsync(texts.Select(t => new Note { Text = t, Topic = "ops", Embedding = t }), TestContext.Current.CancellationToken);

        var hit = await notes.SearchAsync("how long are backups retained", 1, cancellationToken: TestContext.Current.CancellationToken).SingleAsync(TestContext.Current.CancellationToken);
        Assert.Equal(texts[0], hit.Record.Text);

        // The collection is a store collection like any other: the retriever t5rag search uses finds the same record,
        // and the collection records the generator's model, so a model mismatch is caught as for indexed documents.
        var store = Assert.IsAssignableFrom<IPassageStore>(provider.GetRequiredService<VectorStore>().GetService(typeof(IPassageStore)));
        var collection = (await store.OpenCollectionAsync("notes", TestContext.Current.CancellationToken))!;
        Assert.Equal(miniLm.Generator.Model.ModelId, collection.Settings.ModelId);
        var retrieved = await new PassageRetriever(miniLm.Generator, collection).RetrieveAsync("how long are backups retained", cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(texts[0], retrieved[0].Text);
    }

    [Fact]
    public async Task AnAsymmetricModelEmbedsRecordsAsPassagesAndSearchesAsQueriesAndTheCollectionRecordsItsPrompts()
    {
        using var generator = Encoder.Embeddings.OnnxEmbeddingGenerator.Create(layouts.EmbeddingGemma.OutputDirectory);
        Assert.NotEqual(generator.Model.QueryPrefix, generator.Model.PassagePrefix); // EmbeddingGemma's two prompts
        using var store = EmbeddedPassageStoreFor("prompts");
        using var vectors = new T5Gemma2VectorStore(store, options: new T5Gemma2VectorStoreOptions { EmbeddingGenerator = generator });
        var definition = new VectorStoreCollectionDefinition
        {
            Properties =
            [
                new VectorStoreKeyProperty("Id", typeof(string)),
                new VectorStoreDataProperty("Text", typeof(string)) { IsFullTextIndexed = true },
                new VectorStoreVectorProperty("Embedding", typeof(string), generator.Dimensions),
            ],
        };
        var notes = vectors.GetDynamicCollection("notes", definition);
        await notes.EnsureCollectionExistsAsync(TestContext.Current.CancellationToken);
        const string Text = "Backups run nightly and are kept for thirty days.";
        await notes.UpsertAsync(new Dictionary<string, object?> { ["Id"] = "n1", ["Text"] = Text, ["Embedding"] = Text }, TestContext.Current.CancellationToken);

        const string Question = "how long are backups kept";
        var hit = await notes.SearchAsync(Question, 1, cancellationToken: TestContext.Current.CancellationToken).SingleAsync(TestContext.Current.CancellationToken);
        var asQuery = await generator.GenerateAsync([Question], new EmbeddingGenerationOptions().WithInputKind(Encoder.Embeddings.EmbeddingInputKind.Query), TestContext.Current.CancellationToken);
        var asPassage = await generator.GenerateAsync([Question, Text], new EmbeddingGenerationOptions().WithInputKind(Encoder.Embeddings.EmbeddingInputKind.Passage), TestContext.Current.CancellationToken);
        double expected = System.Numerics.Tensors.TensorPrimitives.CosineSimilarity(asQuery[0].Vector.Span, asPassage[1].Vector.Span);
        double wrongPrompt = System.Numerics.Tensors.TensorPrimitives.CosineSimilarity(asPassage[0].Vector.Span, asPassage[1].Vector.Span);
        Assert.NotEqual(expected, wrongPrompt, 4);
        Assert.Equal(expected, hit.Score!.Value, 4);

        var settings = (await store.OpenCollectionAsync("notes", TestContext.Current.CancellationToken))!.Settings;
        Assert.Equal((generator.Model.ModelId, generator.Model.QueryPrefix, generator.Model.PassagePrefix), (settings.ModelId, settings.QueryPrompt, settings.PassagePrompt));
    }

    [Fact]
    public void TheReadmeSampleCompiles()
    {
        var snippet = ReadmeSnippet.Of("Microsoft.Extensions.VectorData");
        Assert.Contains("AddT5Gemma2VectorStore", snippet.Code, StringComparison.Ordinal);
        Assert.Empty(snippet.CompileErrors().Select(d => d.ToString()));
    }
}
