using System.CommandLine;
using System.Globalization;
using T5Gemma2.Rag.Cli.Console;
using T5Gemma2.Rag.Encoder.Embeddings;
using T5Gemma2.Rag.Evaluation;
using T5Gemma2.Rag.Indexer.Datasets;
using T5Gemma2.Rag.Indexer.Pipeline;
using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Retrieval;

namespace T5Gemma2.Rag.Cli.Commands;

/// <summary>
/// <c>t5rag eval beir|squad</c>: indexes a judged set and reports nDCG@10, Recall@10/@100 and MRR@10 per search mode,
/// retrieving through <see cref="PassageRetriever"/> with the options search and ask take, so it measures what they return.
/// </summary>
internal static class EvalCommand
{
    public static Command Create(CliConsole console)
    {
        var eval = new Command("eval", "Retrieval quality on judged sets");
        eval.Subcommands.Add(Subcommand(console, "beir", "A BEIR-layout folder (corpus.jsonl[.gz], queries.jsonl, qrels/test.tsv)", path => BeirDataset.Load(path)));
        eval.Subcommands.Add(Subcommand(console, "squad", "A SQuAD v1.1 file as paragraph retrieval (question → its paragraph)", SquadDataset.Load));
        return eval;
    }

    private static Command Subcommand(CliConsole console, string name, string description, Func<string, RetrievalDataset> load)
    {
        var model = new Option<string?>("--model", "-m") { Description = "Embedding model directory (default: t5rag.json \"model\" or T5RAG_MODEL)" };
        var mode = new Option<string>("--mode") { Description = "dense, keyword, hybrid (reciprocal rank fusion), hybrid-convex, or all of them", DefaultValueFactory = _ => "all" };
        var chunk = new Option<bool>("--chunk") { Description = "Chunk documents (default: one passage per document, as BEIR does)" };
        var store = new Option<string?>("--store") { Description = "Keep the index in this store, a directory or a Qdrant server (qdrant://host:6334); a collection per dataset, re-runs skip unchanged documents; default: a temporary directory" };
        var json = new Option<bool>("--json") { Description = "Print the scores as JSON" };
        var datasets = new Argument<string[]>("datasets") { Description = "Dataset folders or files", Arity = ArgumentArity.OneOrMore };
        var dimensions = new Option<int?>("--dimensions") { Description = "Vector length: the model's leading components, renormalised (Matryoshka)" };
        var command = new Command(name, description) { datasets, model, mode, chunk, store, json, dimensions };
        var retrieval = new RetrievalCommandOptions();
        retrieval.AddTo(command, withTopAndMode: false);
        var runtime = new RuntimeOptions();
        runtime.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var settings = Configuration.T5RagSettings.Load(console.LoggerFactory);
            string modelPath = parse.GetValue(model) ?? settings.Model ?? throw new UsageException("no embedding model: give --model <dir>, set \"model\" in t5rag.json, or set T5RAG_MODEL.");
            // The runs share every retrieval option but mode and fusion, which --mode names.
            var shared = retrieval.Build(parse, settings, RetrievalEvaluator.Depth);
            RetrievalOptions[] runs = parse.GetValue(mode)!.ToLowerInvariant() switch
            {
                "all" => [shared with { Mode = SearchMode.Dense }, shared with { Mode = SearchMode.Keyword }, shared with { Mode = SearchMode.Hybrid, Fusion = FusionMethod.ReciprocalRank }, shared with { Mode = SearchMode.Hybrid, Fusion = FusionMethod.Convex }],
                "hybrid-convex" => [shared with { Mode = SearchMode.Hybrid, Fusion = FusionMethod.Convex }],
                var single when single is "dense" or "keyword" or "hybrid" => [shared with { Mode = RetrievalCommandOptions.ParseMode(single), Fusion = FusionMethod.ReciprocalRank }],
                var other => throw new UsageException($"--mode \"{other}\": expected dense, keyword, hybrid, hybrid-convex or all."),
            };
            var loaded = parse.GetValue(datasets)!.Select(load).ToList();
            string? rerankModel = retrieval.RerankerPath(parse, shared, modelPath);
            using var models = RetrievalModels.Load(modelPath, rerankModel, new OnnxEmbeddingGeneratorOptions { Session = runtime.Session(parse, settings), Dimensions = parse.GetValue(dimensions) ?? settings.Dimensions }, console.LoggerFactory);
            var embedder = models.Embedder!;
            string storePath = parse.GetValue(store) ?? Path.Combine(Path.GetTempPath(), "t5rag-eval-" + Guid.NewGuid().ToString("N")[..12]);
            var results = new List<(string Dataset, RetrievalScores Scores)>();
            try
            {
                using var passages = CollectionOptions.Open(storePath, settings, console.LoggerFactory);
                foreach (var dataset in loaded)
                {
                    string collectionName = new([.. dataset.Name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_')]);
                    var collection = await passages.OpenOrCreateCollectionAsync(collectionName, embedder.CollectionSettings(), cancellationToken);
                    var pipeline = IngestPipeline.Create(embedder, collection, new IngestOptions { ChunkDocuments = parse.GetValue(chunk) }, console.LoggerFactory);
                    var summary = await console.RunWithProgressAsync($"indexing {dataset.Name}", progress =>
                        pipeline.IndexDocumentsAsync(dataset.Corpus(cancellationToken), new Progress<IngestProgress>(p => progress.Report((0, 0, $"{p.PassagesEmbedded:N0} passages"))), cancellationToken));
                    await console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                        $"{dataset.Name}: {summary.DocumentsNew + summary.DocumentsChanged + summary.DocumentsUnchanged:N0} documents ({summary.PassagesNew:N0} passages embedded, {summary.DocumentsUnchanged:N0} unchanged) in {summary.Elapsed.TotalSeconds:F1} s; {dataset.Queries.Count} judged queries"));
                    foreach (var (path, reason) in summary.Failures)
                    {
                        await console.Error.WriteLineAsync($"  {path}: {reason}");
                    }

                    var retriever = models.Retriever(collection);
                    var scores = await console.RunWithStatusAsync($"searching {dataset.Name}", () => RetrievalEvaluator.EvaluateAsync(dataset, retriever, runs, cancellationToken));
                    results.AddRange(scores.Select(s => (dataset.Name, s)));
                }
            }
            finally
            {
                if (parse.GetValue(store) is null)
                {
                    Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
                    Directory.Delete(storePath, recursive: true);
                }
            }

            if (parse.GetValue(json))
            {
                await console.Out.WriteLineAsync(CliJson.Serialize(results.Select(r => new
                {
                    dataset = r.Dataset,
                    mode = r.Scores.Label,
                    retrieval = new
                    {
                        mode = r.Scores.Settings.Mode.ToString().ToLowerInvariant(),
                        fusion = r.Scores.Settings.Mode == SearchMode.Hybrid ? r.Scores.Settings.Fusion.ToString() : null,
                        dense_weight = r.Scores.Settings is { Mode: SearchMode.Hybrid, Fusion: FusionMethod.Convex } ? r.Scores.Settings.DenseWeight : (double?)null,
                        top = r.Scores.Settings.Top,
                        candidates = r.Scores.Settings.Top * r.Scores.Settings.CandidateFactor,
                        merge_adjacent = r.Scores.Settings.MergeAdjacent,
                        max_passages_per_document = r.Scores.Settings.MaxPassagesPerDocument,
                        score_threshold = r.Scores.Settings.ScoreThreshold,
                        filtered = !r.Scores.Settings.Filter.IsEmpty,
                        rerank = r.Scores.Settings.Rerank,
                        reranker = r.Scores.Settings.Rerank ? rerankModel : null,
                    },
                    queries = r.Scores.Queries,
                    ndcg_at_10 = r.Scores.NdcgAt10,
                    recall_at_10 = r.Scores.RecallAt10,
                    recall_at_100 = r.Scores.RecallAt100,
                    mrr_at_10 = r.Scores.MrrAt10,
                    mean_latency_ms = r.Scores.MeanLatency.TotalMilliseconds,
                })));
                return ExitCodes.Success;
            }

            string measured = RetrievalCommandOptions.Describe(RetrievalEvaluator.Measured(shared)) + (rerankModel is null ? string.Empty : $" ({rerankModel})");
            console.WriteTable($"retrieval quality, model {embedder.Model.ModelId}; {measured}", ["dataset", "mode", "nDCG@10", "Recall@10", "Recall@100", "MRR@10", "queries", "ms/query"],
                results.Select(r => (string[])[
                    r.Dataset, r.Scores.Label,
                    F(r.Scores.NdcgAt10), F(r.Scores.RecallAt10), F(r.Scores.RecallAt100), F(r.Scores.MrrAt10),
                    r.Scores.Queries.ToString(CultureInfo.InvariantCulture), r.Scores.MeanLatency.TotalMilliseconds.ToString("F1", CultureInfo.InvariantCulture)]));
            return ExitCodes.Success;
        });
        return command;
    }

    private static string F(double value) => value.ToString("F4", CultureInfo.InvariantCulture);
}
