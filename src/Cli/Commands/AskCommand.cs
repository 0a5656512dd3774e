using System.CommandLine;
using System.Globalization;
using T5Gemma2.Rag.Answering;
using T5Gemma2.Rag.Cli.Console;
using T5Gemma2.Rag.Encoder.Generation;
using T5Gemma2.Rag.Encoder.Images;
using T5Gemma2.Rag.Indexer.Documents;
using T5Gemma2.Rag.Packing;
using T5Gemma2.Rag.Retrieval;
using T5Gemma2.Rag.Server.Answering;

namespace T5Gemma2.Rag.Cli.Commands;

/// <summary>
/// <c>t5rag ask</c>: retrieves, packs into the T5Gemma 2 encoder, streams the decoder's answer (or, with --answerer, another
/// chat model's over the same passages as text), then lists the sources.
/// </summary>
internal static class AskCommand
{
    public static Command Create(CliConsole console)
    {
        var shared = new CollectionOptions();
        var retrieval = new RetrievalCommandOptions("The T5Gemma 2 model directory that answers and, with --rerank, reranks (default: --model, when it has decoder graphs)");
        var question = new Argument<string>("question") { Description = "The question" };
        var budget = new Option<int?>("--budget") { Description = "Encoder input tokens at most (default: the model's maximum positions)" };
        var maxNewTokens = new Option<int>("--max-new-tokens") { Description = "Answer tokens at most", DefaultValueFactory = _ => 256 };
        var timeout = new Option<double?>("--timeout") { Description = "Seconds allowed for generating; the answer so far is printed when they run out" };
        var stream = new Option<bool>("--stream") { Description = "Print the answer as it is generated" };
        var json = new Option<bool>("--json") { Description = "Print the answer, citations and timings as JSON" };
        var showContext = new Option<bool>("--show-context") { Description = "Print exactly what the encoder receives" };
        var images = new Option<string[]>("--image") { Description = "An image of the question's (repeatable): it goes into the encoder input after the question; retrieval uses the text", DefaultValueFactory = _ => [] };
        var answererOption = AnswererOption();
        var command = new Command("ask", "Answer a question from a collection, with citations") { question, budget, maxNewTokens, timeout, stream, json, showContext, images, answererOption };
        retrieval.AddTo(command);
        shared.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var settings = shared.Settings(parse, console.LoggerFactory);
            string text = parse.GetValue(question)!;
            if (string.IsNullOrWhiteSpace(text))
            {
                throw new UsageException("the question is empty.");
            }

            var retrievalOptions = retrieval.Build(parse, settings, RetrievalOptions.Default.Top);
            if (parse.GetValue(maxNewTokens) < 1 || parse.GetValue(budget) is < 16 || parse.GetValue(timeout) is <= 0)
            {
                throw new UsageException("--max-new-tokens must be at least 1, --budget at least 16, --timeout above 0.");
            }

            string embeddingModel = shared.ModelPath(parse, settings);

            using var store = shared.OpenStore(parse, settings, console.LoggerFactory);
            string name = shared.CollectionName(parse, settings);
            var collection = await store.OpenCollectionAsync(name, cancellationToken)
                ?? throw new UsageException($"no collection '{name}' in {store.Location}; index into it first (t5rag index <paths> --collection {name}).");

            // The generator answers (and reranks); with one directory for both, its encoder is loaded once. Another chat
            // model answers without it, and a generator is loaded only to rerank.
            var answering = ParseAnswerer(parse.GetValue(answererOption)) ?? AnswererSpec.T5Gemma2;
            using var chatClient = CreateChatClient(answering);
            string? generatorModel = answering.NeedsGenerator ? parse.GetValue(retrieval.Generator) ?? embeddingModel : retrieval.RerankerPath(parse, retrievalOptions, embeddingModel);
            using var models = RetrievalModels.Load(embeddingModel, generatorModel, shared.Embedding(parse, settings, collection.Settings, embeddingModel), console.LoggerFactory);
            var generator = models.Generator;
            models.ThrowIfMismatched(name, collection);

            // Each image is decoded here once, so a bad file is named before anything is retrieved.
            var questionImages = new List<PassageImage>();
            foreach (string path in parse.GetValue(images)!)
            {
                if (generator is null || !answering.NeedsGenerator)
                {
                    throw new UsageException($"--image needs the T5Gemma 2 answerer; {answering} reads text only.");
                }

                generator.LoadImage(path, cancellationToken);
                byte[] data = await File.ReadAllBytesAsync(path, cancellationToken);
                questionImages.Add(new PassageImage(ImageFormats.Sniff(data) ?? "application/octet-stream", data));
            }

            var options = new AskOptions
            {
                QuestionImages = questionImages,
                Retrieval = retrievalOptions,
                Packing = new PackingOptions { TokenBudget = parse.GetValue(budget) },
                Generation = new GenerationOptions { MaxNewTokens = parse.GetValue(maxNewTokens) },
                Timeout = parse.GetValue(timeout) is { } seconds ? TimeSpan.FromSeconds(seconds) : null,
            };

            var answerer = answering.CreateAnswerer(models.Retriever(collection), generator, chatClient, console.LoggerFactory);
            Answer? answer = null;
            try
            {
                await foreach (var update in answerer.AskStreamingAsync(text, options, cancellationToken))
                {
                    if (update.Context is { } context && parse.GetValue(showContext) && !parse.GetValue(json))
                    {
                        await console.Out.WriteLineAsync($"--- context ({context.TokenCount:N0} of {context.TokenBudget:N0} tokens) ---");
                        await console.Out.WriteLineAsync(context.Text);
                        await console.Out.WriteLineAsync("--- answer ---");
                    }

                    if (update.Delta is { } delta && parse.GetValue(stream) && !parse.GetValue(json))
                    {
                        await console.Out.WriteAsync(delta);
                        await console.Out.FlushAsync(cancellationToken);
                    }

                    answer = update.Answer ?? answer;
                }
            }
            catch (ArgumentException ex) when (ex.ParamName == "question")
            {
                throw UsageException.From(ex);
            }

            if (parse.GetValue(json))
            {
                await console.Out.WriteLineAsync(CliJson.Serialize(new
                {
                    answer = answer!.Text,
                    timed_out = answer.TimedOut,
                    citations = answer.Citations.Select(c => new { number = c.Number, cited = c.Cited, score = c.Score, document_id = c.DocumentId, source = c.Source, title = c.Title, section = c.SectionPath, page = c.Page, passage_ids = c.PassageIds }),
                    context_tokens = answer.Context.TokenCount,
                    context = parse.GetValue(showContext) ? answer.Context.Text : null,
                    seconds = new { retrieve = answer.Timings.Retrieve.TotalSeconds, pack = answer.Timings.Pack.TotalSeconds, first_token = answer.Timings.FirstToken.TotalSeconds, generate = answer.Timings.Generate.TotalSeconds, total = answer.Timings.Total.TotalSeconds },
                }));
                return ExitCodes.Success;
            }

            await console.Out.WriteLineAsync(parse.GetValue(stream) ? string.Empty : answer!.Text);
            if (answer!.TimedOut)
            {
                await console.Error.WriteLineAsync($"t5rag ask: stopped at the --timeout of {parse.GetValue(timeout)} s; the answer above is incomplete.");
            }

            console.WriteTable("sources", ["", "cited", "score", "source", "section / page"], answer.Citations.Select(c => (string[])[
                $"[{c.Number}]",
                c.Cited ? "yes" : "",
                c.Score.ToString("F4", CultureInfo.InvariantCulture),
                c.Source,
                string.Join(", ", new[] { c.SectionPath, c.Page is int p ? $"p. {p}" : null }.Where(s => !string.IsNullOrEmpty(s))),
            ]));
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>--answerer, shared by ask and serve.</summary>
    internal static Option<string?> AnswererOption() => new("--answerer")
    {
        Description = "Which chat model answers: t5gemma2 (the generator; the default), openai:<base url>?model=<id> (key from OPENAI_API_KEY) or ollama:<url>?model=<id>; each may add &context=<tokens> (default 8192)",
    };

    /// <summary>The --answerer given, or null; a spec that is not one of the forms is a usage error.</summary>
    internal static AnswererSpec? ParseAnswerer(string? spec)
    {
        try
        {
            return string.IsNullOrWhiteSpace(spec) ? null : AnswererSpec.Parse(spec);
        }
        catch (ArgumentException ex)
        {
            throw UsageException.From(ex);
        }
    }

    /// <summary>The chat client the answerer names (null for the generator), with <c>OPENAI_API_KEY</c>; a key that cannot go is a usage error.</summary>
    internal static Microsoft.Extensions.AI.IChatClient? CreateChatClient(AnswererSpec answering)
    {
        try
        {
            return answering.CreateChatClient(Environment.GetEnvironmentVariable("OPENAI_API_KEY"));
        }
        catch (ArgumentException ex)
        {
            throw UsageException.From(ex);
        }
    }
}
