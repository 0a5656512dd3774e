using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using T5Gemma2.Rag.Answering;
using T5Gemma2.Rag.Server.Collections;
using T5Gemma2.Rag.Server.Hosting;
using T5Gemma2.Rag.Server.Problems;

namespace T5Gemma2.Rag.Server.Endpoints;

/// <summary>
/// <c>POST /api/collections/{name}/ask</c>: retrieve, pack, answer with citations — the <see cref="RagAnswerer"/>
/// <c>t5rag ask</c> runs. JSON, or server-sent events (<c>context</c>, <c>delta</c>…, <c>citations</c>, <c>done</c>)
/// when the body says <c>stream</c> or the request accepts <c>text/event-stream</c>.
/// </summary>
internal static partial class AskEndpoints
{
    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapPost("/collections/{name}/ask", AskAsync)
            .WithName("Ask")
            .WithSummary("Answers a question from the collection, citing passages as [n]; JSON or text/event-stream")
            .Accepts<AskRequestBody>("application/json")
            .Produces<AskResponse>()
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
    }

    /// <summary>Why <paramref name="collections"/> cannot answer, or null when it can.</summary>
    internal static IResult? NoAnswerer(KnowledgeBaseCollections collections) => collections.Answerer is null
        ? ProblemResponses.Problem(StatusCodes.Status501NotImplemented, "Not implemented", "this server answers nothing: it was started without an answerer (t5rag serve --generator <T5Gemma 2 dir>, or --answerer openai:<base url>?model=<id>); use search instead.")
        : null;

    /// <summary>The problem a failed answer is: nothing retrieved (422), a question over the budget (400), a chat model that failed (502).</summary>
    internal static IResult? Refusal(Exception exception) => exception switch
    {
        NoPassagesException none => ProblemResponses.Problem(StatusCodes.Status422UnprocessableEntity, "Nothing to answer from", none.Message),
        AnswererUnavailableException failed => ProblemResponses.Problem(StatusCodes.Status502BadGateway, "Answerer unavailable", failed.Message),
        ArgumentException { ParamName: "question" } tooLong => ProblemResponses.BadRequest(tooLong.Message.Split(" (Parameter", 2)[0], "question"),
        _ => null,
    };

    private static async Task<IResult> AskAsync(string name, HttpContext context, KnowledgeBaseCollections collections, KnowledgeBaseServerOptions options)
    {
        var (body, problem) = await JsonBody.ReadAsync<AskRequestBody>(context.Request, options.MaxRequestBytes).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        if (string.IsNullOrWhiteSpace(body!.Question))
        {
            return ProblemResponses.BadRequest("question is empty; expected a question in words.", "question");
        }

        var (ask, wrong, field) = body.ToAskOptions(options.MaxTop, options.AskTimeout);
        if (ask is null)
        {
            return ProblemResponses.BadRequest(wrong!, field);
        }

        var (services, missing) = await CollectionAccess.ForReadAsync(context, collections, name).ConfigureAwait(false);
        if (missing is not null)
        {
            return missing;
        }

        if (NoAnswerer(collections) is { } cannot)
        {
            return cannot;
        }

        bool stream = body.Stream ?? context.Request.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals("text/event-stream", StringComparison.OrdinalIgnoreCase));
        var answerer = services!.Answerer!;
        if (stream)
        {
            // The first update (the packed context) is awaited here, so a refusal is still a problem response, not an event.
            var updates = answerer.AskStreamingAsync(body.Question, ask, context.RequestAborted).GetAsyncEnumerator(context.RequestAborted);
            try
            {
                if (!await updates.MoveNextAsync().ConfigureAwait(false))
                {
                    return ProblemResponses.Problem(StatusCodes.Status500InternalServerError, "Internal error", "the answer stream ended before it began.");
                }
            }
            catch (Exception ex) when (Refusal(ex) is not null)
            {
                await updates.DisposeAsync().ConfigureAwait(false);
                return Refusal(ex)!;
            }

            return TypedResults.ServerSentEvents(Events(updates, context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(AskEndpoints).FullName!), name));
        }

        try
        {
            var answer = await answerer.AskAsync(body.Question, ask, context.RequestAborted).ConfigureAwait(false);
            return TypedResults.Json(AskResponse.From(answer), JsonBody.Options);
        }
        catch (Exception ex) when (Refusal(ex) is not null)
        {
            return Refusal(ex)!;
        }
    }

    /// <summary>
    /// The answer's events. The status is sent with the first, so a failure later (a chat model that stops answering)
    /// is an <c>error</c> event with the problem's status, title and detail, and the stream ends there.
    /// </summary>
    private static async IAsyncEnumerable<SseItem<string>> Events(IAsyncEnumerator<AnswerUpdate> updates, ILogger logger, string collection, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using var owned = updates.ConfigureAwait(false);
        T5RagException? failure = null;
        do
        {
            var update = updates.Current;
            if (update.Context is { } packed)
            {
                yield return Event("context", new { passages = packed.Passages.Select(p => new { number = p.Number, document_id = p.Passage.DocumentId, source = p.Passage.Source, title = p.Passage.Title, section = p.Passage.SectionPath, page = p.Passage.Page, score = p.Passage.Score }), tokens = packed.TokenCount, budget = packed.TokenBudget });
            }
            else if (update.Delta is { } delta)
            {
                yield return Event("delta", new { text = delta });
            }
            else if (update.Answer is { } answer)
            {
                var response = AskResponse.From(answer);
                yield return Event("citations", new { citations = response.Citations });
                yield return Event("done", new { answer = response.Answer, timed_out = response.TimedOut, timings = response.Timings });
            }

            try
            {
                if (!await updates.MoveNextAsync().ConfigureAwait(false))
                {
                    break;
                }
            }
            catch (T5RagException ex)
            {
                failure = ex;
                break;
            }
        }
        while (true);

        if (failure is not null)
        {
            int status = failure is AnswererUnavailableException ? StatusCodes.Status502BadGateway : StatusCodes.Status500InternalServerError;
            Log.StreamFailed(logger, collection, status, failure is AnswererUnavailableException chat ? chat.ForOperator : failure.Message);
            yield return Event("error", new { status, title = status == StatusCodes.Status502BadGateway ? "Answerer unavailable" : "Answer failed", detail = failure.Message });
        }
    }

    private static SseItem<string> Event(string type, object data) => new(JsonSerializer.Serialize(data, JsonBody.Options), type);

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "ask in collection {Collection} failed after its stream began: {Status} {Message}")]
        public static partial void StreamFailed(ILogger logger, string collection, int status, string message);
    }
}

/// <summary>What ask returns: the answer, every passage the model was given (cited or not), and the time per stage.</summary>
public sealed record AskResponse(string Answer, IReadOnlyList<CitationResult> Citations, bool TimedOut, AskTimings Timings)
{
    internal static AskResponse From(Answer answer) => new(
        answer.Text,
        [.. answer.Citations.Select(c => Result(c, answer.Context.Passages.FirstOrDefault(p => p.Number == c.Number)?.Passage))],
        answer.TimedOut,
        new AskTimings(answer.Timings.Retrieve.TotalMilliseconds, answer.Timings.Pack.TotalMilliseconds, answer.Timings.FirstToken.TotalMilliseconds, answer.Timings.Generate.TotalMilliseconds, answer.Timings.Total.TotalMilliseconds));

    private static CitationResult Result(Citation c, Retrieval.RetrievedPassage? passage) =>
        new(c.Number, c.Cited, c.DocumentId, c.PassageIds, c.Source, c.Title, c.SectionPath, c.Page, c.Score, passage?.Snippet(240), passage?.Text);
}

/// <summary>A passage behind marker [<see cref="Number"/>]: a snippet to list it by, and its whole text as the answerer was given it (before any cut to the budget), to open it by.</summary>
public sealed record CitationResult(int Number, bool Cited, string DocumentId, IReadOnlyList<string> PassageIds, string Source, string? Title, string? Section, int? Page, double Score, string? Snippet, string? Text);

/// <summary>Milliseconds per stage of an answer.</summary>
public sealed record AskTimings(double RetrieveMs, double PackMs, double FirstTokenMs, double GenerateMs, double TotalMs);
