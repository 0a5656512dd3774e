using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using T5Gemma2.Rag.Server.Jobs;
using T5Gemma2.Rag.Server.Problems;
using T5Gemma2.Rag.Server.Security;

namespace T5Gemma2.Rag.Server.Endpoints;

/// <summary>
/// <c>GET /api/jobs/{id}</c> (an ingestion job: its state, each file's end, passages, progress) and
/// <c>GET /api/jobs/{id}/events</c> (the same as server-sent events: <c>progress</c> on each change, then <c>done</c>).
/// A job is seen by keys that may read its collection; for any other key it does not exist (404).
/// </summary>
internal static class JobEndpoints
{
    /// <summary>How often the event stream reads the job when no in-process news comes (a replica reading another's jobs).</summary>
    private static readonly TimeSpan s_poll = TimeSpan.FromSeconds(1);

    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapGet("/jobs/{id}", Get).WithName("GetJob").WithSummary("An ingestion job: state, files done and failed with reasons, passages, progress").Produces<JobResult>().ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/jobs/{id}/events", Events).WithName("JobEvents").WithSummary("The job's progress as server-sent events (progress…, done), until it finishes").Produces(StatusCodes.Status200OK, contentType: "text/event-stream").ProducesProblem(StatusCodes.Status404NotFound);
    }

    /// <summary>The job if the caller may see it, else the 404 (also for an id that is no job's, so ids do not leak).</summary>
    private static (IngestJob? Job, IResult? Missing) Find(HttpContext context, IngestJobStore jobs, string id)
    {
        if (IngestJobStore.IsId(id) && jobs.Get(id) is { } job && Caller.From(context.User).CanRead(job.Collection))
        {
            return (job, null);
        }

        return (null, ProblemResponses.NotFound($"no job '{UploadNames.Printable(id)}' that this API key may see."));
    }

    private static IResult Get(string id, HttpContext context, IngestJobStore jobs)
    {
        var (job, missing) = Find(context, jobs, id);
        return missing ?? TypedResults.Json(JobResult.From(job!), JsonBody.Options);
    }

    private static IResult Events(string id, HttpContext context, IngestJobStore jobs, IngestJobEvents events)
    {
        var (job, missing) = Find(context, jobs, id);
        return missing ?? TypedResults.ServerSentEvents(Stream(job!.Id, jobs, events, context.RequestAborted));
    }

    private static async IAsyncEnumerable<SseItem<string>> Stream(string id, IngestJobStore jobs, IngestJobEvents events, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? sent = null;
        while (true)
        {
            // The pulse is taken before the read, so a change after the read wakes the wait below.
            var changed = events.NextChange;
            if (jobs.Get(id) is not { } job)
            {
                yield break;
            }

            string json = JsonSerializer.Serialize(JobResult.From(job), JsonBody.Options);
            if (job.IsFinished)
            {
                yield return new SseItem<string>(json, "done");
                yield break;
            }

            if (json != sent)
            {
                yield return new SseItem<string>(json, "progress");
                sent = json;
            }

            await Task.WhenAny(changed, Task.Delay(s_poll, cancellationToken)).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }
    }
}

/// <summary>An ingestion job as the API returns it.</summary>
/// <param name="Progress">Files read and cut over files, under 1 while the job runs; 1 when it has finished.</param>
/// <param name="Passages">Passages its documents have in the collection (0 until it finishes).</param>
public sealed record JobResult(
    string Id,
    string Collection,
    IngestJobState State,
    int FilesTotal,
    int FilesDone,
    int FilesFailed,
    long Passages,
    double Progress,
    int DocumentsNew,
    int DocumentsChanged,
    int DocumentsUnchanged,
    IReadOnlyDictionary<string, string>? Tags,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    string? Error,
    IReadOnlyList<JobFileResult> Files)
{
    internal static JobResult From(IngestJob job) => new(
        job.Id,
        job.Collection,
        job.State,
        job.Files.Count,
        job.Files.Count(f => f.State == IngestFileState.Done),
        job.Files.Count(f => f.State == IngestFileState.Failed),
        job.Passages,
        job.Progress,
        job.DocumentsNew,
        job.DocumentsChanged,
        job.DocumentsUnchanged,
        job.Tags.Count > 0 ? job.Tags : null,
        job.CreatedAt,
        job.StartedAt,
        job.FinishedAt,
        job.Error,
        [.. job.Files.Select(f => new JobFileResult(f.Name, f.State, f.Reason, f.DocumentId, f.Bytes))]);
}

/// <summary>One file of a job: the name it was uploaded as, its state, why it failed, its document and size.</summary>
public sealed record JobFileResult(string Name, IngestFileState State, string? Reason, string DocumentId, long Bytes);
