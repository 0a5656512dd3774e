using Microsoft.Extensions.AI;
using T5Gemma2.Rag.Answering;
using T5Gemma2.Rag.Encoder.Generation;
using T5Gemma2.Rag.Indexer.Chunking;
using T5Gemma2.Rag.Indexer.Pipeline;
using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Indexer.Stores.Embedded;
using T5Gemma2.Rag.Retrieval;
using T5Gemma2.Rag.Tests.Infrastructure;
using T5Gemma2.Rag.Tests.Pipeline;

namespace T5Gemma2.Rag.Tests.Answering;

/// <summary>
/// Retrieval with the real MiniLM model over a real embedded store, answers from the tiny random T5Gemma 2 (its text
/// is noise, but every stage is real: packing, encoder, cross cache, decoder, streaming, citations).
/// </summary>
public sealed class RagAnswererTests(SharedMiniLm miniLm, SharedTinyT5Gemma2 tiny) : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        this._directory.Dispose();
    }

    [Fact]
    public async Task StreamsTheContextThenTheAnswerThenCitationsOfRealPassages()
    {
        var (collection, records) = await this.IndexAsync(count: 30, chunkTokens: null);
        using var generator = Seq2SeqGenerator.Create(tiny.ConvertedDirectory);
        var answerer = RagAnswerer.Create(new PassageRetriever(miniLm.Generator, collection), generator);
        var options = new AskOptions { Retrieval = new RetrievalOptions { Top = 4 }, Generation = new GenerationOptions { MaxNewTokens = 8, MinNewTokens = 8 } };

        var updates = new List<AnswerUpdate>();
        await foreach (var update in answerer.AskStreamingAsync($"Tell me about {records[7].Title}", options, TestContext.Current.CancellationToken))
        {
            updates.Add(update);
        }

        Assert.NotNull(updates[0].Context);
        Assert.NotNull(updates[^1].Answer);
        var answer = updates[^1].Answer!;
        Assert.Equal(string.Concat(updates.Select(u => u.Delta)).Trim(), answer.Text);
        Assert.True(updates.Count(u => u.Delta is not null) >= 2, "the answer streamed in pieces");
        Assert.InRange(answer.Citations.Count, 1, 4);
        Assert.Equal(answer.Context.Passages.Count, answer.Citations.Count);
        Assert.Equal(records[7].Title, answer.Citations[0].Title);
        var stored = await collection.GetVectorsAsync([.. answer.Citations.SelectMany(c => c.PassageIds)], TestContext.Current.CancellationToken);
        Assert.Equal(answer.Citations.Sum(c => c.PassageIds.Count), stored.Count);
        Assert.True(answer.Context.TokenCount <= answer.Context.TokenBudget);
        Assert.Equal(generator.Config.Encoder.MaxPositionEmbeddings, answer.Context.TokenBudget);
        Assert.True(answer.Timings.Total >= answer.Timings.Retrieve + answer.Timings.Pack);
    }

    [Fact]
    public async Task AnyChatClientCanAnswerOverTheSameRetrieval()
    {
        var (collection, records) = await this.IndexAsync(count: 10, chunkTokens: null);
        using var generator = Seq2SeqGenerator.Create(tiny.ConvertedDirectory);
        var recorder = new RecordingChatClient(new Seq2SeqChatClient(generator));
        var retriever = new PassageRetriever(miniLm.Generator, collection);
        var answerer = new RagAnswerer(retriever, new Packing.ContextPacker(generator.Tokenizer, generator.Config.Encoder.MaxPositionEmbeddings), recorder);

        // The chat client reads the system message too: the answerer leaves it room in the window, with the answer's tokens.
        var answer = await answerer.AskAsync(records[2].Title, new AskOptions { Generation = new GenerationOptions { MaxNewTokens = 4, MinNewTokens = 4 } }, TestContext.Current.CancellationToken);

        string prompt = Assert.Single(recorder.Prompts);
        Assert.StartsWith(RagAnswerer.ChatInstruction + "\nAnswer the question", prompt, StringComparison.Ordinal);
        Assert.Contains(records[2].Text[..40], prompt, StringComparison.Ordinal);
        Assert.Equal(4, recorder.MaxOutputTokens);
        int system = generator.Tokenizer.EncodeToIdsAsPlainText(RagAnswerer.ChatInstruction).Count;
        Assert.True(answer.Context.TokenCount + system + 4 <= generator.Config.Encoder.MaxPositionEmbeddings, $"{answer.Context.TokenCount} + {system} + 4");
        Assert.False(string.IsNullOrWhiteSpace(answer.Text));
    }

    [Fact]
    public async Task MergesConsecutivePassagesAndCapsEachDocument()
    {
        var (collection, records) = await this.IndexAsync(count: 6, chunkTokens: 24);
        var retriever = new PassageRetriever(miniLm.Generator, collection);
        string question = records[3].Text[..80];

        var merged = await retriever.RetrieveAsync(question, new RetrievalOptions { Top = 10, MaxPassagesPerDocument = 2, Mode = SearchMode.Keyword }, TestContext.Current.CancellationToken);
        var unmerged = await retriever.RetrieveAsync(question, new RetrievalOptions { Top = 10, MaxPassagesPerDocument = 100, MergeAdjacent = false, Mode = SearchMode.Keyword }, TestContext.Current.CancellationToken);

        Assert.All(merged.GroupBy(p => p.DocumentId), g => Assert.True(g.Count() <= 2));
        Assert.Contains(merged, p => p.PassageIds.Count > 1);
        string document = $"# {records[3].Title}\n\n{records[3].Text}\n";
        foreach (var passage in merged.Where(p => p.DocumentId.EndsWith("0003.md", StringComparison.Ordinal)))
        {
            Assert.Equal(document.Substring(passage.Start, passage.Length), passage.Text);
        }

        Assert.True(unmerged.Count > merged.Count);
    }

    [Fact]
    public async Task CancellingAStreamStopsItAndBadInputIsOneClearError()
    {
        var (collection, records) = await this.IndexAsync(count: 5, chunkTokens: null);
        using var generator = Seq2SeqGenerator.Create(tiny.ConvertedDirectory);
        var answerer = RagAnswerer.Create(new PassageRetriever(miniLm.Generator, collection), generator);

        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        int deltas = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var update in answerer.AskStreamingAsync("ships", new AskOptions { Generation = new GenerationOptions { MaxNewTokens = 400, MinNewTokens = 400 } }, cancel.Token))
            {
                if (update.Delta is not null && ++deltas == 2)
                {
                    await cancel.CancelAsync();
                }
            }
        });
        Assert.Equal(2, deltas);

        await Assert.ThrowsAsync<ArgumentException>(() => answerer.AskAsync("  ", cancellationToken: TestContext.Current.CancellationToken));
        var nothing = new AskOptions { Retrieval = new RetrievalOptions { Filter = new PassageFilter { SourcePrefix = "/nowhere/" } } };
        var none = await Assert.ThrowsAsync<NoPassagesException>(() => answerer.AskAsync("ships", nothing, TestContext.Current.CancellationToken));
        Assert.Contains("filter matches nothing", none.Message, StringComparison.Ordinal);

        using var store = EmbeddedPassageStore.Open(this._directory.Combine("empty-store"));
        var empty = await store.OpenOrCreateCollectionAsync("empty", new CollectionSettings(miniLm.Generator.Dimensions, miniLm.Generator.Model.ModelId), TestContext.Current.CancellationToken);
        var emptyAnswerer = RagAnswerer.Create(new PassageRetriever(miniLm.Generator, empty), generator);
        await Assert.ThrowsAsync<NoPassagesException>(() => emptyAnswerer.AskAsync("ships", cancellationToken: TestContext.Current.CancellationToken));

        var tooLong = string.Join(' ', Enumerable.Repeat(records[0].Title, 600));
        var budget = await Assert.ThrowsAsync<ArgumentException>(() => answerer.AskAsync(tooLong, new AskOptions { Retrieval = new RetrievalOptions { Mode = SearchMode.Keyword } }, TestContext.Current.CancellationToken));
        Assert.Contains("budget", budget.Message, StringComparison.Ordinal);
    }

    private async Task<(IPassageCollection Collection, List<(string Id, string Title, string Text)> Records)> IndexAsync(int count, int? chunkTokens)
    {
        var records = TestCorpus.Records(count);
        string docs = this._directory.Combine("docs-" + Guid.NewGuid().ToString("N")[..6]);
        TestCorpus.WriteMarkdown(docs, records);
        var store = EmbeddedPassageStore.Open(this._directory.Combine("store-" + Guid.NewGuid().ToString("N")[..6]));
        var collection = await store.OpenOrCreateCollectionAsync("kb", new CollectionSettings(miniLm.Generator.Dimensions, miniLm.Generator.Model.ModelId), TestContext.Current.CancellationToken);
        var options = new IngestOptions { Chunking = chunkTokens is int n ? new ChunkingOptions { MaxTokens = n, OverlapTokens = n / 4 } : null };
        await IngestPipeline.Create(miniLm.Generator, collection, options).IndexFilesAsync([docs], cancellationToken: TestContext.Current.CancellationToken);
        return (collection, records);
    }

    /// <summary>Passes everything to the real chat client and keeps what it was asked.</summary>
    private sealed class RecordingChatClient(IChatClient inner) : DelegatingChatClient(inner)
    {
        public List<string> Prompts { get; } = [];

        public int? MaxOutputTokens { get; private set; }

        public override IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            this.Prompts.Add(string.Join("\n", messages.Select(m => m.Text)));
            this.MaxOutputTokens = options?.MaxOutputTokens;
            return base.GetStreamingResponseAsync(messages, options, cancellationToken);
        }
    }
}
