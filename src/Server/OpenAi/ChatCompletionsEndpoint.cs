using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using T5Gemma2.Rag.Answering;
using T5Gemma2.Rag.Encoder.Generation;
using T5Gemma2.Rag.Server.Collections;
using T5Gemma2.Rag.Server.Endpoints;
using T5Gemma2.Rag.Server.Hosting;
using T5Gemma2.Rag.Server.Problems;

namespace T5Gemma2.Rag.Server.OpenAi;

/// <summary>
/// <c>POST /v1/chat/completions</c>, JSON or (<c>stream: true</c>) server-sent chunks ending in <c>data: [DONE]</c>.
/// <c>kb:&lt;collection&gt;</c> answers the last user message from the collection — retrieval, packing and the
/// collection's <see cref="RagAnswerer"/>, exactly as ask — with the passages in the text (the answer's [n] markers and
/// a "Sources:" list) and in a <c>citations</c> field; earlier turns and system messages are not used (the question is
/// retrieved for and packed on its own, and the model has no chat template). The generator's own id answers the whole
/// conversation (its messages' texts, joined by newlines) without retrieval, through <see cref="Seq2SeqChatClient"/>.
/// </summary>
/// <remarks>
/// Usage: prompt tokens are the encoder input's (the packed context for <c>kb:</c>), completion tokens the tokens
/// generated. An absent or zero <c>temperature</c> decodes greedily (OpenAI's default is 1; here the answer is the
/// same every time unless sampling is asked for). Refusals (nothing retrieved, a question over the budget, a
/// conversation longer than the model's input) come before the first chunk, so they are errors with a status.
/// </remarks>
internal static partial class ChatCompletionsEndpoint
{
    private static readonly JsonSerializerOptions s_json = new(JsonBody.Options) { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.Never };

    public static void Map(IEndpointRouteBuilder v1)
    {
        v1.MapPost("/chat/completions", CompleteAsync)
            .WithName("CreateChatCompletion")
            .WithSummary("Answers a chat from a collection (model kb:<collection>) or with the generator alone (OpenAI-compatible); JSON or text/event-stream")
            .Accepts<ChatCompletionRequest>("application/json")
            .Produces<ChatCompletion>()
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status501NotImplemented);
    }

    private static async Task<IResult> CompleteAsync(HttpContext context, KnowledgeBaseCollections collections, KnowledgeBaseServerOptions options)
    {
        var (body, problem) = await JsonBody.ReadAsync<ChatCompletionRequest>(context.Request, options.MaxRequestBytes, JsonBody.Options).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        if (string.IsNullOrWhiteSpace(body!.Model))
        {
            return ProblemResponses.BadRequest("model is missing; expected kb:<collection> (GET /v1/models lists them) or the generator's id.", "model");
        }

        var (messages, wrongMessage, messageField) = Messages(body.Messages);
        if (messages is null)
        {
            return ProblemResponses.BadRequest(wrongMessage!, messageField);
        }

        var (chatOptions, wrong, field) = body.ToChatOptions();
        if (chatOptions is null)
        {
            return ProblemResponses.BadRequest(wrong!, field);
        }

        IAsyncEnumerable<ChatPart> parts;
        if (body.Model.StartsWith(OpenAiEndpoints.CollectionModelPrefix, StringComparison.Ordinal))
        {
            var (services, missing) = await CollectionAccess.ForReadAsync(context, collections, body.Model[OpenAiEndpoints.CollectionModelPrefix.Length..]).ConfigureAwait(false);
            if (missing is not null)
            {
                return OpenAiErrorWriter.ModelNotFound(body.Model);
            }

            if (AskEndpoints.NoAnswerer(collections) is { } cannot)
            {
                return cannot;
            }

            int last = messages.FindLastIndex(m => m.Role == ChatRole.User);
            if (last < 0 || string.IsNullOrWhiteSpace(messages[last].Text))
            {
                return ProblemResponses.BadRequest($"{(last < 0 ? "no message has the role user" : $"messages[{last}], the last user message, has no text")}; {body.Model} answers the last user message.", last < 0 ? "messages" : $"messages[{last}].content");
            }

            var ask = new AskRequestBody { Question = messages[last].Text, Top = body.Top, Filters = body.Filters, Budget = body.Budget, MaxNewTokens = chatOptions.MaxOutputTokens };
            var (askOptions, wrongAsk, askField) = ask.ToAskOptions(options.MaxTop, options.AskTimeout);
            if (askOptions is null)
            {
                return ProblemResponses.BadRequest(wrongAsk!, askField);
            }

            var generation = new AskOptions { Retrieval = askOptions.Retrieval, Packing = askOptions.Packing, Timeout = askOptions.Timeout, Generation = Seq2SeqChatClient.ToGenerationOptions(chatOptions) };
            parts = FromCollectionAsync(services!.Answerer!, messages[last].Text, generation, collections, context.RequestAborted);
        }
        else if (collections.GeneratorModelId is { } generator && string.Equals(body.Model, generator, StringComparison.Ordinal))
        {
            parts = FromGeneratorAsync(collections.Generator!, messages, chatOptions, options.AskTimeout, context.RequestAborted);
        }
        else if (string.Equals(body.Model, collections.EmbeddingModelId, StringComparison.Ordinal))
        {
            return ProblemResponses.BadRequest($"'{body.Model}' is the embedding model (POST /v1/embeddings); chat with kb:<collection> or the generator.", "model");
        }
        else
        {
            return OpenAiErrorWriter.ModelNotFound(body.Model);
        }

        // The first part is awaited here, so a refusal (nothing retrieved, too long an input) is still an error with a status.
        var reader = parts.GetAsyncEnumerator(context.RequestAborted);
        try
        {
            if (!await reader.MoveNextAsync().ConfigureAwait(false))
            {
                throw new InvalidOperationException("the answer ended before it began.");
            }
        }
        catch (Exception ex) when (Refusal(ex) is { } refusal)
        {
            await reader.DisposeAsync().ConfigureAwait(false);
            return refusal;
        }
        catch
        {
            await reader.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        var head = new ChunkHead($"chatcmpl-{Guid.NewGuid():N}", DateTimeOffset.UtcNow.ToUnixTimeSeconds(), body.Model);
        if (body.Stream != true)
        {
            await using (reader.ConfigureAwait(false))
            {
                return TypedResults.Json(await CollectAsync(reader, head).ConfigureAwait(false), s_json);
            }
        }

        bool includeUsage = body.StreamOptions?.IncludeUsage == true;
        var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ChatCompletionsEndpoint).FullName!);
        context.Response.Headers.CacheControl = "no-cache";
        return TypedResults.Stream(stream => StreamAsync(reader, head, includeUsage, stream, logger, context.RequestAborted), "text/event-stream");
    }

    /// <summary>The conversation as chat messages, or the problem with it and its field.</summary>
    private static (List<ChatMessage>? Messages, string? Problem, string? Field) Messages(IReadOnlyList<ChatMessageBody>? bodies)
    {
        if (bodies is not { Count: > 0 })
        {
            return (null, "messages is missing or empty; expected at least one message.", "messages");
        }

        var messages = new List<ChatMessage>(bodies.Count);
        for (int i = 0; i < bodies.Count; i++)
        {
            var role = bodies[i]?.Role switch
            {
                "user" => ChatRole.User,
                "assistant" => ChatRole.Assistant,
                "system" or "developer" => ChatRole.System,
                "tool" or "function" => ChatRole.Tool,
                _ => (ChatRole?)null,
            };
            if (role is null)
            {
                return (null, $"messages[{i}].role '{bodies[i]?.Role}': expected system, developer, user, assistant or tool.", $"messages[{i}].role");
            }

            var (text, wrong, field) = bodies[i].Text(i);
            if (text is null)
            {
                return (null, wrong, field);
            }

            messages.Add(new ChatMessage(role.Value, text));
        }

        return (messages, null, null);
    }

    /// <summary>A refusal the caller can act on, as an error with a status: ask's, and a conversation longer than the generator's input.</summary>
    private static IResult? Refusal(Exception exception) => exception is ArgumentException { ParamName: "input" } tooLong
        ? ProblemResponses.BadRequest(tooLong.Message.Split(" (Parameter", 2)[0], "messages")
        : AskEndpoints.Refusal(exception);

    /// <summary>The answer from the collection: its text trimmed as the finished answer is, then the sources, then the end with citations and usage.</summary>
    private static async IAsyncEnumerable<ChatPart> FromCollectionAsync(RagAnswerer answerer, string question, AskOptions options, KnowledgeBaseCollections collections, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var trimmed = new TrimmedDeltas();
        await foreach (var update in answerer.AskStreamingAsync(question, options, cancellationToken).ConfigureAwait(false))
        {
            if (update.Delta is { } delta && trimmed.Next(delta) is { Length: > 0 } send)
            {
                yield return new ChatPart(send);
            }
            else if (update.Answer is { } answer)
            {
                var citations = AskResponse.From(answer).Citations;
                string sources = Sources(citations);
                yield return new ChatPart(answer.Text.Length > 0 ? "\n\n" + sources : sources);
                int completion = answer.GeneratedTokenCount ?? collections.CountAnswerTokens(answer.Text);
                bool cut = answer.TimedOut || answer.FinishReason == FinishReason.Length;
                yield return new ChatPart(End: new ChatEnd(cut ? "length" : "stop", new ChatUsage(answer.Context.TokenCount, completion, answer.Context.TokenCount + completion), citations, answer.TimedOut));
            }
        }
    }

    /// <summary>The generator's answer to the conversation, stopped (finish reason "length") at the ask timeout.</summary>
    private static async IAsyncEnumerable<ChatPart> FromGeneratorAsync(Seq2SeqGenerator generator, List<ChatMessage> messages, ChatOptions options, TimeSpan timeout, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var chat = new Seq2SeqChatClient(generator);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        var text = new StringBuilder();
        UsageDetails? usage = null;
        ChatFinishReason? finish = null;
        bool timedOut = false;
        var updates = chat.GetStreamingResponseAsync(messages, options, limit.Token).GetAsyncEnumerator(limit.Token);
        await using (updates.ConfigureAwait(false))
        {
            while (true)
            {
                try
                {
                    if (!await updates.MoveNextAsync().ConfigureAwait(false))
                    {
                        break;
                    }
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && limit.IsCancellationRequested)
                {
                    timedOut = true;
                    break;
                }

                var update = updates.Current;
                usage = update.Contents.OfType<UsageContent>().FirstOrDefault()?.Details ?? usage;
                finish = update.FinishReason ?? finish;
                if (!string.IsNullOrEmpty(update.Text))
                {
                    text.Append(update.Text);
                    yield return new ChatPart(update.Text);
                }
            }
        }

        // Stopped by the timeout, the generator reports nothing: the texts are counted by its tokenizer instead.
        int prompt = (int)(usage?.InputTokenCount ?? generator.Tokenizer.EncodeToIdsAsPlainText(string.Join("\n", messages.Select(m => m.Text).Where(t => t.Length > 0)), generator.Tokenizer.AddBeginningOfSentence).Count);
        int completion = (int)(usage?.OutputTokenCount ?? generator.Tokenizer.EncodeToIdsAsPlainText(text.ToString()).Count);
        yield return new ChatPart(End: new ChatEnd(timedOut || finish == ChatFinishReason.Length ? "length" : "stop", new ChatUsage(prompt, completion, prompt + completion), null, timedOut));
    }

    /// <summary>The "Sources:" block: the passages the answer cites, or every passage it was given when it cites none.</summary>
    private static string Sources(IReadOnlyList<CitationResult> citations)
    {
        var listed = citations.Any(c => c.Cited) ? citations.Where(c => c.Cited) : citations;
        var text = new StringBuilder("Sources:");
        foreach (var citation in listed)
        {
            text.Append('\n').Append('[').Append(citation.Number).Append("] ").Append(citation.Source);
            if (!string.IsNullOrWhiteSpace(citation.Title))
            {
                text.Append(" — ").Append(citation.Title);
            }

            if (!string.IsNullOrWhiteSpace(citation.Section))
            {
                text.Append(", ").Append(citation.Section);
            }

            if (citation.Page is { } page)
            {
                text.Append(", p. ").Append(page);
            }
        }

        return text.ToString();
    }

    private static async Task<ChatCompletion> CollectAsync(IAsyncEnumerator<ChatPart> reader, ChunkHead head)
    {
        var content = new StringBuilder();
        ChatEnd? end = null;
        do
        {
            content.Append(reader.Current.Delta);
            end = reader.Current.End ?? end;
        }
        while (await reader.MoveNextAsync().ConfigureAwait(false));

        return new ChatCompletion(head.Id, "chat.completion", head.Created, head.Model, [new ChatChoice(0, new ChatReply("assistant", content.ToString()), end!.FinishReason, null)], end.Usage, end.Citations, end.TimedOut ? true : null);
    }

    private static async Task StreamAsync(IAsyncEnumerator<ChatPart> reader, ChunkHead head, bool includeUsage, Stream stream, ILogger logger, CancellationToken cancellationToken)
    {
        await using var owned = reader.ConfigureAwait(false);
        try
        {
            await WriteAsync(stream, Chunk(head, new ChunkDelta("assistant", string.Empty), null), cancellationToken).ConfigureAwait(false);
            do
            {
                if (reader.Current.Delta is { } delta)
                {
                    await WriteAsync(stream, Chunk(head, new ChunkDelta(null, delta), null), cancellationToken).ConfigureAwait(false);
                }
                else if (reader.Current.End is { } end)
                {
                    await WriteAsync(stream, Chunk(head, new ChunkDelta(null, null), end.FinishReason) with { Citations = end.Citations, TimedOut = end.TimedOut ? true : null }, cancellationToken).ConfigureAwait(false);
                    if (includeUsage)
                    {
                        await WriteAsync(stream, new ChatCompletionChunk(head.Id, "chat.completion.chunk", head.Created, head.Model, [], end.Usage), cancellationToken).ConfigureAwait(false);
                    }
                }
            }
            while (await reader.MoveNextAsync().ConfigureAwait(false));
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // The status is sent: the failure goes as an error event, as OpenAI's streams carry one.
            Log.StreamFailed(logger, head.Model, ex);
            // A failure the project explains (a chat model that stopped answering) says so; anything else is a bug.
            string message = ex is T5RagException failure ? failure.Message : $"the answer failed after it began ({ex.GetType().Name}; the server log has the details).";
            await WriteAsync(stream, new { error = new { message, type = "server_error", param = (string?)null, code = (string?)null } }, cancellationToken).ConfigureAwait(false);
        }

        await stream.WriteAsync("data: [DONE]\n\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private static ChatCompletionChunk Chunk(ChunkHead head, ChunkDelta delta, string? finishReason) =>
        new(head.Id, "chat.completion.chunk", head.Created, head.Model, [new ChunkChoice(0, delta, finishReason, null)], null);

    private static async Task WriteAsync<T>(Stream stream, T data, CancellationToken cancellationToken)
    {
        await stream.WriteAsync("data: "u8.ToArray(), cancellationToken).ConfigureAwait(false);
        await JsonSerializer.SerializeAsync(stream, data, s_json, cancellationToken).ConfigureAwait(false);
        await stream.WriteAsync("\n\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private sealed record ChunkHead(string Id, long Created, string Model);

    /// <summary>A text delta of the reply, or its end.</summary>
    private sealed record ChatPart(string? Delta = null, ChatEnd? End = null);

    private sealed record ChatEnd(string FinishReason, ChatUsage Usage, IReadOnlyList<CitationResult>? Citations, bool TimedOut);

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "chat completion with {Model} failed while streaming")]
        public static partial void StreamFailed(ILogger logger, string model, Exception exception);
    }
}
