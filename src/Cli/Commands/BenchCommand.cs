using System.CommandLine;
using T5Gemma2.Rag.Cli.Bench;
using T5Gemma2.Rag.Cli.Console;
using T5Gemma2.Rag.Encoder.Embeddings;
using T5Gemma2.Rag.Encoder.Onnx;
using T5Gemma2.Rag.Server.Hosting;

namespace T5Gemma2.Rag.Cli.Commands;

/// <summary><c>t5rag bench</c>: measured figures, as ratios to the targets or to peers run in the same process.</summary>
internal static class BenchCommand
{
    public static Command Create(CliConsole console)
    {
        var bench = new Command("bench", "Measure speed and memory against targets and peers");

        var tokenizerOption = new Option<string>("--tokenizer", "-t") { Description = "A tokenizer.json, or a model directory", Required = true };
        var corpusOption = new Option<string[]>("--corpus") { Description = "Corpus files or directories (BEIR jsonl[.gz], SQuAD json, jsonl with \"text\", .txt/.md)", Required = true, AllowMultipleArgumentsPerToken = true };
        var minimumOption = new Option<double>("--min-mb") { Description = "Refuse to measure on less distinct text than this (MB)", DefaultValueFactory = _ => 5.0 };
        var tokenizer = new Command("tokenizer", "Tokenizer throughput (one thread), cold load time and retained memory") { tokenizerOption, corpusOption, minimumOption };
        tokenizer.SetAction((parse, cancellationToken) => TokenizerBenchmark.RunAsync(console, parse.GetValue(tokenizerOption)!, parse.GetValue(corpusOption)!, parse.GetValue(minimumOption), cancellationToken));

        var modelOption = new Option<string>("--model", "-m") { Description = "A model directory", Required = true };
        var embedCorpusOption = new Option<string[]>("--corpus") { Description = "Corpus files or directories of passages", Required = true, AllowMultipleArgumentsPerToken = true };
        var passagesOption = new Option<int>("--passages") { Description = "How many distinct passages to embed", DefaultValueFactory = _ => 1000 };
        var seedOption = new Option<int>("--seed") { Description = "Seed of the passage sample", DefaultValueFactory = _ => 42 };
        var batchTokensOption = new Option<int?>("--batch-tokens") { Description = "Our batching's padded-token budget per run (default: the device's)" };
        var embed = new Command("embed", "Embedding throughput: our batching vs one input per run vs fixed unsorted batches of 32") { modelOption, embedCorpusOption, passagesOption, seedOption, batchTokensOption };
        var embedRuntime = Runtime(embed);
        embed.SetAction((parse, cancellationToken) => EmbeddingBenchmark.RunAsync(console, parse.GetValue(modelOption)!, parse.GetValue(embedCorpusOption)!, parse.GetValue(passagesOption), parse.GetValue(seedOption), parse.GetValue(batchTokensOption), Session(embedRuntime, parse), cancellationToken));

        var indexModel = new Option<string>("--model", "-m") { Description = "A model directory", Required = true };
        var indexCorpus = new Option<string[]>("--corpus") { Description = "Corpus files or directories of passages", Required = true, AllowMultipleArgumentsPerToken = true };
        var indexPassages = new Option<int>("--passages") { Description = "Passages to index (past the corpus's size they repeat with a suffix)", DefaultValueFactory = _ => 2000 };
        var indexRounds = new Option<int>("--rounds") { Description = "Rounds; the best of each path counts", DefaultValueFactory = _ => 2 };
        var noRaw = new Option<bool>("--no-raw") { Description = "Skip the raw embedding comparison (memory runs)" };
        var index = new Command("index", "Indexing throughput end to end beside raw embedding of the same texts; memory as the run goes") { indexModel, indexCorpus, indexPassages, indexRounds, noRaw };
        var indexRuntime = Runtime(index);
        index.SetAction((parse, cancellationToken) => IndexBenchmark.RunAsync(console, parse.GetValue(indexModel)!, parse.GetValue(indexCorpus)!, Math.Max(1, parse.GetValue(indexPassages)), Math.Max(1, parse.GetValue(indexRounds)), !parse.GetValue(noRaw), Session(indexRuntime, parse), cancellationToken));

        var encoderModels = new Option<string[]>("--model", "-m") { Description = "Converted model directories (the first is the baseline, e.g. fp32 then int8 and int4)", Required = true, AllowMultipleArgumentsPerToken = true };
        var shapesOption = new Option<string>("--shapes") { Description = "batch×length shapes", DefaultValueFactory = _ => "8x512,1x2048,1x8192" };
        var encoderCorpus = new Option<string[]>("--corpus") { Description = "Passages for comparing the models' pooled embeddings", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [] };
        var encoder = new Command("encoder", "T5Gemma 2 encoder tokens/s per shape beside the GEMM limit, long-context ratio, loaded memory, quantized quality") { encoderModels, shapesOption, encoderCorpus };
        var encoderRuntime = Runtime(encoder);
        encoder.SetAction(async (parse, cancellationToken) =>
        {
            var shapes = new List<(int, int)>();
            foreach (string shape in parse.GetValue(shapesOption)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                string[] parts = shape.Split('x');
                if (parts.Length != 2 || !int.TryParse(parts[0], out int batch) || !int.TryParse(parts[1], out int length) || batch < 1 || length < 1)
                {
                    await console.Error.WriteLineAsync($"t5rag bench encoder: --shapes entry \"{shape}\"; expected BATCHxLENGTH such as 8x512.");
                    return ExitCodes.UsageError;
                }

                shapes.Add((batch, length));
            }

            return await EncoderBenchmark.RunAsync(console, parse.GetValue(encoderModels)!, [.. shapes], parse.GetValue(encoderCorpus)!, Session(encoderRuntime, parse), cancellationToken);
        });

        var agreementModels = new Option<string[]>("--model", "-m") { Description = "Converted model directories (the first is the baseline, e.g. fp32 then int8 and int4)", Required = true, AllowMultipleArgumentsPerToken = true };
        var agreementCorpus = new Option<string[]>("--corpus") { Description = "Corpus files or directories of passages", Required = true, AllowMultipleArgumentsPerToken = true };
        var agreementQueries = new Option<string[]>("--queries") { Description = "Query files, taken in order (BEIR queries.jsonl, SQuAD json: its questions)", Required = true, AllowMultipleArgumentsPerToken = true };
        var agreementPassages = new Option<int>("--passages") { Description = "Passages searched (the corpus's first distinct ones)", DefaultValueFactory = _ => 5000 };
        var agreementQueryCount = new Option<int>("--query-count") { Description = "Queries, the files' first distinct ones", DefaultValueFactory = _ => 200 };
        var agreementLength = new Option<int>("--max-length") { Description = "Tokens per passage or query (longer ones are truncated)", DefaultValueFactory = _ => 256 };
        var agreement = new Command("agreement", "Retrieval agreement with a baseline model: top-10 overlap of exact cosine search, mean embedding cosine") { agreementModels, agreementCorpus, agreementQueries, agreementPassages, agreementQueryCount, agreementLength };
        agreement.SetAction((parse, cancellationToken) => RetrievalAgreementBenchmark.RunAsync(console, parse.GetValue(agreementModels)!, parse.GetValue(agreementCorpus)!, parse.GetValue(agreementQueries)!, Math.Max(1, parse.GetValue(agreementPassages)), Math.Max(1, parse.GetValue(agreementQueryCount)), Math.Max(8, parse.GetValue(agreementLength)), cancellationToken));
        bench.Subcommands.Add(agreement);

        var decoderModels = new Option<string[]>("--model", "-m") { Description = "Converted model directories with decoder graphs", Required = true, AllowMultipleArgumentsPerToken = true };
        var inputTokens = new Option<int>("--input-tokens") { Description = "Encoder input length", DefaultValueFactory = _ => 2048 };
        var newTokens = new Option<int>("--new-tokens") { Description = "Tokens to generate (eos suppressed)", DefaultValueFactory = _ => 256 };
        var profile = new Option<string?>("--profile") { Description = "Write ONNX Runtime profiles into this directory and print where the step's time goes by operator" };
        var decoder = new Command("decoder", "Decoder tokens/s with the cache beside the memory-bandwidth limit, time to first token beside its compute floor, cached vs uncached, peak memory") { decoderModels, inputTokens, newTokens, profile };
        var decoderRuntime = Runtime(decoder);
        decoder.SetAction((parse, cancellationToken) => DecoderBenchmark.RunAsync(console, parse.GetValue(decoderModels)!, parse.GetValue(inputTokens), parse.GetValue(newTokens), Session(decoderRuntime, parse), parse.GetValue(profile), cancellationToken));
        bench.Subcommands.Add(decoder);

        var searchPassages = new Option<string>("--passages") { Description = "Collection sizes, comma-separated (k and m suffixes allowed)", DefaultValueFactory = _ => "10000,1000000" };
        var searchDimensions = new Option<string>("--dimensions") { Description = "Vector dimensions; several (768,256) measure Matryoshka cuts of the first beside it in one run", DefaultValueFactory = _ => "640" };
        var searchQueries = new Option<int>("--queries") { Description = "Timed queries per path", DefaultValueFactory = _ => 200 };
        var searchStore = new Option<string?>("--store") { Description = "Keep the collections here and reuse one of the same size, dimensions and seed (default: a temporary directory, deleted after)" };
        var searchSeed = new Option<int>("--seed") { Description = "Seed of the synthetic passages and queries", DefaultValueFactory = _ => 1 };
        var search = new Command("search", "Embedded store search at scale on synthetic passages: build times, dense/keyword/hybrid latency, HNSW recall@10 vs exact, peak memory") { searchPassages, searchDimensions, searchQueries, searchStore, searchSeed };
        search.SetAction((parse, cancellationToken) => SearchBenchmark.RunAsync(console, parse.GetValue(searchPassages)!, parse.GetValue(searchDimensions)!, parse.GetValue(searchQueries), parse.GetValue(searchStore), parse.GetValue(searchSeed), cancellationToken));
        bench.Subcommands.Add(search);

        var qdrantUrl = new Option<string?>("--url") { Description = "Qdrant gRPC endpoint (default: t5rag.json qdrant.url, QDRANT_URL, or http://localhost:6334)" };
        var qdrantPoints = new Option<int>("--points") { Description = "Synthetic passages to upsert", DefaultValueFactory = _ => 100_000 };
        var qdrantDimensions = new Option<int>("--dimensions") { Description = "Vector dimensions", DefaultValueFactory = _ => 384 };
        var qdrantQueries = new Option<int>("--queries") { Description = "Timed queries per mode", DefaultValueFactory = _ => 200 };
        var qdrantSeed = new Option<int>("--seed") { Description = "Seed of the synthetic passages and queries", DefaultValueFactory = _ => 1 };
        var qdrantKeep = new Option<bool>("--keep") { Description = "Keep the benchmark collection (default: deleted after)" };
        var qdrant = new Command("qdrant", "Qdrant store on a live server: upsert points/s, HNSW build after a deferred bulk load, dense/keyword/hybrid latency p50/p99") { qdrantUrl, qdrantPoints, qdrantDimensions, qdrantQueries, qdrantSeed, qdrantKeep };
        qdrant.SetAction((parse, cancellationToken) => QdrantBenchmark.RunAsync(console, parse.GetValue(qdrantUrl), parse.GetValue(qdrantPoints), parse.GetValue(qdrantDimensions), parse.GetValue(qdrantQueries), parse.GetValue(qdrantSeed), parse.GetValue(qdrantKeep), cancellationToken));
        bench.Subcommands.Add(qdrant);

        var visionModels = new Option<string[]>("--model", "-m") { Description = "Converted model directories with a vision graph (e.g. fp32 then int4)", Required = true, AllowMultipleArgumentsPerToken = true };
        var visionImages = new Option<int>("--images") { Description = "Images timed per model (after one untimed)", DefaultValueFactory = _ => 3 };
        var visionText = new Option<int>("--text-tokens") { Description = "Text beside the image for the time to first token", DefaultValueFactory = _ => 2_048 };
        var vision = new Command("vision", "Vision tower images/s beside the GEMM limit of its shapes, loaded memory, time to first token with an image") { visionModels, visionImages, visionText };
        var visionRuntime = Runtime(vision);
        vision.SetAction((parse, cancellationToken) => VisionBenchmark.RunAsync(console, parse.GetValue(visionModels)!, Math.Max(1, parse.GetValue(visionImages)), Math.Max(1, parse.GetValue(visionText)), Session(visionRuntime, parse), cancellationToken));
        bench.Subcommands.Add(vision);

        bench.Subcommands.Add(tokenizer);
        bench.Subcommands.Add(encoder);
        bench.Subcommands.Add(embed);
        bench.Subcommands.Add(index);

        var askGenerator = new Option<string>("--generator", "-g") { Description = "T5Gemma 2 model directory that answers", Required = true };
        var askModel = new Option<string>("--model", "-m") { Description = "Embedding model directory that retrieves", Required = true };
        var askCorpus = new Option<string[]>("--corpus") { Description = "Corpus files or directories of passages", Required = true, AllowMultipleArgumentsPerToken = true };
        var askPassages = new Option<int>("--passages") { Description = "Passages in the collection", DefaultValueFactory = _ => 10_000 };
        var askBudget = new Option<int>("--budget") { Description = "Encoder input budget in tokens", DefaultValueFactory = _ => 8_192 };
        var askTokens = new Option<int>("--new-tokens") { Description = "Answer tokens (eos suppressed)", DefaultValueFactory = _ => 128 };
        var askQuestions = new Option<int>("--questions") { Description = "Questions timed (after one untimed warm-up)", DefaultValueFactory = _ => 3 };
        var askStore = new Option<string?>("--store") { Description = "Keep the indexed passages here between runs (default: a temporary store)" };
        var askRerank = new Option<int>("--rerank") { Description = "Also time reranking this many passages with the decoder (0: skip)", DefaultValueFactory = _ => 0 };
        var askAnswerer = new Option<string?>("--answerer") { Description = "Also answer the questions with this chat model (openai:<base url>?model=<id>, ollama:<url>?model=<id>) and with the generator in process, and compare their time to first token" };
        var ask = new Command("ask", "One answer's time by stage: retrieve, pack, encode, cross cache, first step, decode") { askGenerator, askModel, askCorpus, askPassages, askBudget, askTokens, askQuestions, askStore, askRerank, askAnswerer };
        var askRuntime = Runtime(ask);
        ask.SetAction((parse, cancellationToken) => AskBenchmark.RunAsync(console, parse.GetValue(askGenerator)!, parse.GetValue(askModel)!, parse.GetValue(askCorpus)!, Math.Max(1, parse.GetValue(askPassages)), Math.Max(64, parse.GetValue(askBudget)), Math.Max(1, parse.GetValue(askTokens)), Math.Max(1, parse.GetValue(askQuestions)), parse.GetValue(askStore), Math.Max(0, parse.GetValue(askRerank)), Session(askRuntime, parse), cancellationToken, AskCommand.ParseAnswerer(parse.GetValue(askAnswerer))));
        bench.Subcommands.Add(ask);

        var cancelModel = new Option<string>("--model", "-m") { Description = "A T5Gemma 2 model directory with decoder graphs", Required = true };
        var cancelWarmup = new Option<int>("--warmup") { Description = "Cancelled streams before the baseline", DefaultValueFactory = _ => 100 };
        var cancelRuns = new Option<int>("--runs") { Description = "Cancelled streams measured", DefaultValueFactory = _ => 200 };
        var cancel = new Command("cancel", "Private memory growth over many generations cancelled mid-stream (flat when nothing leaks)") { cancelModel, cancelWarmup, cancelRuns };
        var cancelRuntime = Runtime(cancel);
        cancel.SetAction((parse, cancellationToken) => CancellationBenchmark.RunAsync(console, parse.GetValue(cancelModel)!, Math.Max(0, parse.GetValue(cancelWarmup)), Math.Max(1, parse.GetValue(cancelRuns)), Session(cancelRuntime, parse), cancellationToken));
        bench.Subcommands.Add(cancel);

        bench.Subcommands.Add(Serve(console));

        var samplerVocabulary = new Option<int>("--vocabulary") { Description = "Logits per token (Gemma's vocabulary)", DefaultValueFactory = _ => 262_144 };
        var samplerTokens = new Option<int>("--tokens") { Description = "Tokens sampled per setting", DefaultValueFactory = _ => 200 };
        var samplerSpread = new Option<double>("--spread") { Description = "Standard deviation of the synthetic logits", DefaultValueFactory = _ => 3.0 };
        var samplerSeed = new Option<int>("--seed") { Description = "Seed of the logits and of the draws", DefaultValueFactory = _ => 1 };
        var sampler = new Command("sampler", "Time per sampled token (top-k, top-p, both) over a full vocabulary of synthetic logits") { samplerVocabulary, samplerTokens, samplerSpread, samplerSeed };
        sampler.SetAction((parse, cancellationToken) => SamplerBenchmark.RunAsync(console, Math.Max(2, parse.GetValue(samplerVocabulary)), Math.Max(1, parse.GetValue(samplerTokens)), parse.GetValue(samplerSpread), parse.GetValue(samplerSeed), cancellationToken));
        bench.Subcommands.Add(sampler);
        return bench;

        // Read when a benchmark runs, with the run's logger factory (set after the commands are built).
        OnnxSessionOptions Session(RuntimeOptions runtime, ParseResult parse) => runtime.Session(parse, Configuration.T5RagSettings.Load(console.LoggerFactory));
    }

    /// <summary><c>t5rag bench serve</c>: the knowledge-base service under load, a running one (--url) or one started here (--start).</summary>
    private static Command Serve(CliConsole console)
    {
        var shared = new CollectionOptions();
        var url = new Option<string?>("--url") { Description = "The running server to drive, e.g. http://127.0.0.1:8080 (or --start)" };
        var key = new Option<string?>("--key") { Description = "API key sent as the bearer token (none: loopback while the server has no key); printed as *** in the header" };
        var start = new Option<bool>("--start") { Description = "Start the server in this process on a free loopback port, over --store with --model (and --generator)" };
        var generator = new Option<string?>("--generator", "-g") { Description = "With --start: the T5Gemma 2 model directory that answers the ask phase (default: none; no ask phase)" };
        var serverPid = new Option<int?>("--server-pid") { Description = "The remote server's process id: its peak resident memory is read from /proc/<pid>/status" };
        var collection = new Option<string>("--collection", "-c") { Description = "The collection searched (made and filled when it has fewer passages)", DefaultValueFactory = _ => "bench-serve" };
        var passages = new Option<int>("--passages") { Description = "Synthetic passages in the collection", DefaultValueFactory = _ => 10_000 };
        var searchers = new Option<int>("--searchers") { Description = "Concurrent searchers in the search phase", DefaultValueFactory = _ => 32 };
        var seconds = new Option<int>("--seconds") { Description = "Length of the search phase (one writer uploads beside the searchers)", DefaultValueFactory = _ => 60 };
        var mode = new Option<string>("--mode") { Description = "The searchers' mode: dense, keyword or hybrid", DefaultValueFactory = _ => "hybrid" };
        var askers = new Option<int>("--askers") { Description = "Concurrent askers in the ask phase (0: none)", DefaultValueFactory = _ => 4 };
        var askSeconds = new Option<int>("--ask-seconds") { Description = "Length of the ask phase (0: none)", DefaultValueFactory = _ => 30 };
        var askTokens = new Option<int>("--ask-tokens") { Description = "max_new_tokens of each ask", DefaultValueFactory = _ => 32 };
        var jobTimeout = new Option<int>("--job-timeout") { Description = "Seconds the writer waits for one upload's job", DefaultValueFactory = _ => 120 };
        var seed = new Option<int>("--seed") { Description = "Seed of the passages and queries", DefaultValueFactory = _ => 1 };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON" };
        var command = new Command("serve", "The knowledge-base service under load over HTTP: concurrent searchers while a writer uploads, then concurrent askers; requests/s, p50/p99, 4xx/5xx/transport errors, peak RSS, uploads searchable afterwards")
        {
            url, key, start, generator, serverPid, collection, passages, searchers, seconds, mode, askers, askSeconds, askTokens, jobTimeout, seed, json,
        };

        // --model, --threads, --device, --store, --config as every store command has them (--collection is the benchmark's own).
        command.Options.Add(shared.Model);
        command.Options.Add(shared.Dimensions);
        shared.Runtime.AddTo(command);
        command.Options.Add(shared.Store);
        command.Options.Add(shared.Config);
        command.SetAction((parse, cancellationToken) =>
        {
            var settings = shared.Settings(parse, console.LoggerFactory);
            Func<KnowledgeBaseServerOptions>? server = !parse.GetValue(start) ? null : () => new KnowledgeBaseServerOptions
            {
                Store = shared.StorePath(parse, settings),
                EmbeddingModelDirectory = shared.ModelPath(parse, settings),
                GeneratorModelDirectory = parse.GetValue(generator),
                Session = shared.Session(parse, settings),
                Dimensions = shared.DimensionsGiven(parse, settings),
                QdrantApiKey = settings.QdrantApiKey,

                // The figures are the server's, not a key's rate limit: every client shares one partition here.
                RequestsPerSecondPerKey = 1_000_000,
                BurstPerKey = 1_000_000,
            };

            return ServeBenchmark.RunAsync(console, new ServeBenchmarkSettings(
                parse.GetValue(url), parse.GetValue(key), server, parse.GetValue(serverPid), parse.GetValue(collection)!,
                parse.GetValue(passages), parse.GetValue(searchers), parse.GetValue(seconds), parse.GetValue(mode)!, parse.GetValue(askers), parse.GetValue(askSeconds), parse.GetValue(askTokens),
                parse.GetValue(seed), TimeSpan.FromSeconds(Math.Max(1, parse.GetValue(jobTimeout))), parse.GetValue(json)), cancellationToken);
        });
        return command;
    }

    private static RuntimeOptions Runtime(Command command)
    {
        var runtime = new RuntimeOptions();
        runtime.AddTo(command);
        return runtime;
    }
}
