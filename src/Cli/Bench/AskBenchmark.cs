using System.Globalization;
using T5Gemma2.Rag.Answering;
using T5Gemma2.Rag.Cli.Console;
using T5Gemma2.Rag.Encoder.Embeddings;
using T5Gemma2.Rag.Encoder.Generation;
using T5Gemma2.Rag.Encoder.Models;
using T5Gemma2.Rag.Encoder.Onnx;
using T5Gemma2.Rag.Indexer.Pipeline;
using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Indexer.Stores.Embedded;
using T5Gemma2.Rag.Packing;
using T5Gemma2.Rag.Retrieval;
using T5Gemma2.Rag.Server.Answering;

namespace T5Gemma2.Rag.Cli.Bench;

/// <summary>
/// One answer's time, stage by stage: retrieve (query embedding and hybrid search over the indexed passages), pack
/// (the encoder input up to the budget), encode, cross cache, first decoder step, and the rest of the decoding; so
/// time to first token and total time are sums of measured parts.
/// </summary>
internal static class AskBenchmark
{
    public static async Task<int> RunAsync(CliConsole console, string generatorPath, string embeddingPath, string[] corpus, int passageCount, int budget, int newTokens, int questions, string? storePath, int rerankPassages, OnnxSessionOptions session, CancellationToken cancellationToken, AnswererSpec? answerer = null)
    {
        await BenchEnvironment.WriteAsync(console, BenchEnvironment.IntraOp(session.IntraOpThreads));
        var distinct = BenchCorpus.ReadDistinct(corpus);
        if (distinct.Count == 0)
        {
            await console.Error.WriteLineAsync("t5rag bench ask: the corpus has no passages.");
            return ExitCodes.UsageError;
        }

        using var generator = Seq2SeqGenerator.Create(generatorPath, session);
        using var embedder = ModelDirectory.IsSameDirectory(embeddingPath, generatorPath)
            ? generator.CreateEmbeddingGenerator(loggerFactory: console.LoggerFactory)
            : OnnxEmbeddingGenerator.Create(embeddingPath, new OnnxEmbeddingGeneratorOptions { Session = session }, console.LoggerFactory);
        double gemm = await console.RunWithStatusAsync("measuring the GEMM limit", () => Task.FromResult(ComputeLimits.MeasureGemm(generator.Config.Encoder, session)));
        string store = storePath ?? Path.Combine(Path.GetTempPath(), "t5rag-bench-ask-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            using var passages = EmbeddedPassageStore.Open(store);
            var collection = await passages.OpenOrCreateCollectionAsync("bench-ask", embedder.CollectionSettings(), cancellationToken);
            string[] texts = BenchCorpus.Repeat(distinct, passageCount);
            var indexed = await console.RunWithStatusAsync($"indexing {passageCount:N0} passages (unchanged ones are skipped)", () =>
                IngestPipeline.Create(embedder, collection, new IngestOptions { ChunkDocuments = false }, console.LoggerFactory).IndexDocumentsAsync(BenchCorpus.AsDocuments(texts, cancellationToken), cancellationToken: cancellationToken));
            await console.Error.WriteLineAsync($"collection: {(await collection.GetInfoAsync(cancellationToken)).Passages:N0} passages ({indexed.PassagesNew:N0} embedded now)");

            var retriever = new PassageRetriever(embedder, collection);
            var packer = new ContextPacker(generator.Tokenizer, generator.Config.Encoder.MaxPositionEmbeddings);
            var retrieval = new RetrievalOptions { Top = Math.Max(8, budget / 64), MaxPassagesPerDocument = 3 };
            var generation = new GenerationOptions { MaxNewTokens = newTokens, MinNewTokens = newTokens };
            var rows = new List<string[]>();
            var totals = new List<(double Ttft, double Total, int Tokens)>();

            // The first question warms the sessions up and is not counted.
            for (int q = -1; q < questions; q++)
            {
                string question = string.Join(' ', distinct[(Math.Max(q, 0) * 7919) % distinct.Count].Split(' ').Take(12));
                var clock = System.Diagnostics.Stopwatch.StartNew();
                var found = await retriever.RetrieveAsync(question, retrieval, cancellationToken);
                var retrieve = clock.Elapsed;
                var context = packer.Pack(question, found, new PackingOptions { TokenBudget = budget });
                var pack = clock.Elapsed - retrieve;
                var result = (await generator.GenerateFromIdsAsync([context.InputIds], q < 0 ? new GenerationOptions { MaxNewTokens = 1 } : generation, cancellationToken))[0];
                if (q < 0)
                {
                    continue;
                }

                var t = result.Timings!;
                double ttft = (retrieve + pack + t.Encode + t.CrossCache + t.FirstStep).TotalSeconds;
                double total = (retrieve + pack + t.Encode + t.CrossCache + t.Decode).TotalSeconds;
                totals.Add((ttft, total, context.TokenCount));
                rows.Add([
                    (q + 1).ToString(CultureInfo.InvariantCulture), context.TokenCount.ToString("N0", CultureInfo.InvariantCulture), context.Passages.Count.ToString(CultureInfo.InvariantCulture),
                    Ms(retrieve), Ms(pack), Ms(t.Encode), Ms(t.CrossCache), Ms(t.FirstStep), Ms(t.Decode - t.FirstStep),
                    ttft.ToString("F2", CultureInfo.InvariantCulture), total.ToString("F2", CultureInfo.InvariantCulture), result.TokenIds.Count.ToString(CultureInfo.InvariantCulture)]);
            }

            console.WriteTable(
                $"ask: {generator.Model.ModelId} answering, {embedder.Model.ModelId} retrieving, {budget:N0}-token budget, {newTokens} new tokens",
                ["question", "context tokens", "passages", "retrieve ms", "pack ms", "encode ms", "cross cache ms", "first step ms", "other steps ms", "first token s", "total s", "tokens"],
                rows);
            if (rerankPassages > 0)
            {
                // The decoder as reranker: one encoder pass per passage plus a decoder pass over the question.
                var reranker = new DecoderReranker(generator);
                string question = string.Join(' ', distinct[0].Split(' ').Take(12));
                var found = await retriever.RetrieveAsync(question, new RetrievalOptions { Top = rerankPassages, MaxPassagesPerDocument = 3 }, cancellationToken);
                var clock = System.Diagnostics.Stopwatch.StartNew();
                await reranker.RerankAsync(question, found, cancellationToken);
                await console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"reranking {found.Count} passages ({found.Sum(p => p.Text.Length):N0} characters) with the decoder: {clock.Elapsed.TotalMilliseconds:N0} ms ({clock.Elapsed.TotalMilliseconds / Math.Max(found.Count, 1):N0} ms per passage)"));
            }

            if (answerer is not null)
            {
                await CompareAnswerersAsync(console, answerer, generator, retriever, questions, distinct, new AskOptions { Retrieval = retrieval, Packing = new PackingOptions { TokenBudget = budget }, Generation = generation }, cancellationToken);
            }

            var ordered = totals.OrderBy(t => t.Total).ToList();
            var median = ordered[ordered.Count / 2];
            double floor = ComputeLimits.EncoderFlopsPerToken(generator.Config.Encoder, median.Tokens) * median.Tokens / gemm;
            await console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"median: time to first answer token {median.Ttft:F2} s, total for {newTokens} tokens {median.Total:F2} s; the encoder's compute floor for {median.Tokens:N0} tokens is {floor:F2} s (its FLOPs ÷ the GEMM limit, {gemm / 1e9:F0} GFLOP/s)"));
            return ExitCodes.Success;
        }
        finally
        {
            if (storePath is null)
            {
                Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
                Directory.Delete(store, recursive: true);
            }
        }
    }

    /// <summary>
    /// The same questions answered end to end by <see cref="RagAnswerer"/> twice: with the T5Gemma 2 generator in this
    /// process, and with <paramref name="answerer"/> (another chat model, or this generator behind <c>t5rag serve</c>'s
    /// <c>/v1/chat/completions</c>): the packed context (in each answerer's own tokens; a chat model's leaves room for
    /// its system message and answer), time to first token and total, each as the answerer itself measures them.
    /// </summary>
    private static async Task CompareAnswerersAsync(CliConsole console, AnswererSpec answerer, Seq2SeqGenerator generator, PassageRetriever retriever, int questions, IReadOnlyList<string> distinct, AskOptions options, CancellationToken cancellationToken)
    {
        using var chat = Commands.AskCommand.CreateChatClient(answerer);
        (string Name, RagAnswerer Answerer)[] answerers = [($"t5gemma2 ({generator.Model.ModelId}, in process)", RagAnswerer.Create(retriever, generator)), (answerer.ToString(), answerer.CreateAnswerer(retriever, generator, chat, null))];
        var rows = new List<string[]>();
        var firstTokens = new List<double>();
        foreach (var (name, rag) in answerers)
        {
            var timings = new List<AnswerTimings>();
            var contextTokens = new List<double>();
            for (int q = -1; q < questions; q++)
            {
                string question = string.Join(' ', distinct[(Math.Max(q, 0) * 7919) % distinct.Count].Split(' ').Take(12));
                var answer = await rag.AskAsync(question, options, cancellationToken);
                if (q >= 0)
                {
                    timings.Add(answer.Timings);
                    contextTokens.Add(answer.Context.TokenCount);
                }
            }

            double firstToken = Median(timings.Select(t => t.FirstToken.TotalSeconds));
            firstTokens.Add(firstToken);
            rows.Add([name, Median(contextTokens).ToString("N0", CultureInfo.InvariantCulture), firstToken.ToString("F3", CultureInfo.InvariantCulture), Median(timings.Select(t => t.Total.TotalSeconds)).ToString("F3", CultureInfo.InvariantCulture)]);
        }

        console.WriteTable($"answerers side by side: {questions} questions each after one warm-up, {options.Generation.MaxNewTokens} new tokens", ["answerer", "median context tokens", "median first token s", "median total s"], rows);
        await console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"time to first token, {answerers[1].Name} ÷ in process: {firstTokens[1] / firstTokens[0]:F2}"));
    }

    private static double Median(IEnumerable<double> values)
    {
        var ordered = values.Order().ToList();
        return ordered[ordered.Count / 2];
    }

    private static string Ms(TimeSpan time) => time.TotalMilliseconds.ToString("N0", CultureInfo.InvariantCulture);
}
