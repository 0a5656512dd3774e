using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Server.Collections;
using T5Gemma2.Rag.Server.Hosting;
using T5Gemma2.Rag.Server.Jobs;
using T5Gemma2.Rag.Server.Problems;
using T5Gemma2.Rag.Server.Security;

namespace T5Gemma2.Rag.Server.Endpoints;

/// <summary>
/// <c>/api/collections/{name}/documents</c>: upload (multipart, one or many files, optional tags) as an ingestion job
/// acknowledged with 202 once its files are staged durably; list (paged), describe and delete documents. A document's
/// id may hold '/' (uploaded "guide/intro.md"): it is the rest of the path, percent-encoded or not.
/// </summary>
internal static class DocumentEndpoints
{
    /// <summary>The most documents one page lists.</summary>
    public const int MaxLimit = 500;

    private const int DefaultLimit = 50;

    /// <summary>Seconds a client waits before uploading again into a full queue.</summary>
    private const int QueueFullRetrySeconds = 30;

    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapPost("/collections/{name}/documents", UploadAsync)
            .WithName("UploadDocuments")
            .WithSummary("Uploads files (multipart: 'files' parts, optional 'tags' parts key=value) as an ingestion job; 202 with the job once they are staged")
            .Accepts<IFormFileCollection>("multipart/form-data")
            .Produces<JobAccepted>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        api.MapGet("/collections/{name}/documents", ListAsync)
            .WithName("ListDocuments")
            .WithSummary("The collection's documents, by id, a page at a time (offset, limit 1 to 500)")
            .Produces<DocumentList>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/collections/{name}/documents/{**id}", GetAsync)
            .WithName("GetDocument")
            .WithSummary("One document: source, passages, when it was indexed, its content hash")
            .Produces<DocumentResult>()
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapDelete("/collections/{name}/documents/{**id}", DeleteAsync)
            .WithName("DeleteDocument")
            .WithSummary("Deletes a document and its passages (writer)")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    /// <summary>
    /// The document id a path names: the server decodes every escape in a path but %2F (so a '/' escaped by the client
    /// stays "%2F"); decoded here, an id reads the same escaped (encodeURIComponent) or not.
    /// </summary>
    internal static string DocumentId(string routed) => routed.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);

    private static IResult QueueFull(KnowledgeBaseServerOptions options) =>
        ProblemResponses.Unavailable($"the ingestion queue is full ({options.MaxQueuedJobs:N0} jobs queued or running, T5Rag:MaxQueuedJobs); upload again later.", QueueFullRetrySeconds);

    private static IResult NoDocument(string id, string collection) =>
        ProblemResponses.NotFound($"no document '{UploadNames.Printable(id)}' in collection '{collection}'.");

    private static async Task<IResult> UploadAsync(string name, HttpContext context, KnowledgeBaseCollections collections, KnowledgeBaseServerOptions options, IngestJobStore jobs, UploadStaging staging, IngestJobEvents events)
    {
        if (CollectionAccess.WriteRefused(context, options, name) is { } refused)
        {
            return refused;
        }

        // Refused before a byte is read, counting the uploads being staged (each one a job to be); counted again when
        // the job is inserted, where it holds.
        if (jobs.CountActive() + staging.Count >= options.MaxQueuedJobs)
        {
            return QueueFull(options);
        }

        var (upload, problem) = await staging.StageAsync(context.Request, context.RequestAborted).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        IngestJob job;
        using (upload)
        {
            await collections.OpenOrCreateAsync(name, context.RequestAborted).ConfigureAwait(false);
            job = new IngestJob(upload!.JobId, name, IngestJobState.Queued, Caller.From(context.User).Name, upload.Tags, DateTimeOffset.UtcNow, null, null, 0, 0, 0, 0, 0, null, upload.Files);

            // The files and their folder are on disk; the job row that names them is committed before the 202.
            if (!jobs.Insert(job, options.MaxQueuedJobs))
            {
                return QueueFull(options);
            }

            upload.Keep();
        }

        events.JobQueued();
        string location = $"/api/jobs/{job.Id}";
        context.Response.Headers.Location = location;
        return TypedResults.Json(new JobAccepted(job.Id, name, job.Files.Count, location), JsonBody.Options, statusCode: StatusCodes.Status202Accepted);
    }

    private static async Task<IResult> ListAsync(string name, string? offset, string? limit, HttpContext context, KnowledgeBaseCollections collections)
    {
        if (!TryParse(offset, 0, 0, int.MaxValue, out int skip))
        {
            return ProblemResponses.BadRequest($"offset '{UploadNames.Printable(offset!)}': expected a whole number from 0.", "offset");
        }

        if (!TryParse(limit, DefaultLimit, 1, MaxLimit, out int take))
        {
            return ProblemResponses.BadRequest($"limit '{UploadNames.Printable(limit!)}': expected a whole number from 1 to {MaxLimit}.", "limit");
        }

        var (services, missing) = await CollectionAccess.ForReadAsync(context, collections, name).ConfigureAwait(false);
        if (missing is not null)
        {
            return missing;
        }

        var documents = await services!.Collection.GetDocumentsAsync(context.RequestAborted).ConfigureAwait(false);
        var page = documents.Values.OrderBy(d => d.DocumentId, StringComparer.Ordinal).Skip(skip).Take(take).Select(DocumentResult.From).ToList();
        return TypedResults.Json(new DocumentList(page, documents.Count, skip, take), JsonBody.Options);
    }

    private static async Task<IResult> GetAsync(string name, string id, HttpContext context, KnowledgeBaseCollections collections)
    {
        var (services, missing) = await CollectionAccess.ForReadAsync(context, collections, name).ConfigureAwait(false);
        if (missing is not null)
        {
            return missing;
        }

        string documentId = DocumentId(id);
        return await services!.Collection.GetDocumentAsync(documentId, context.RequestAborted).ConfigureAwait(false) is { } record
            ? TypedResults.Json(DocumentResult.From(record), JsonBody.Options)
            : NoDocument(documentId, name);
    }

    private static async Task<IResult> DeleteAsync(string name, string id, HttpContext context, KnowledgeBaseCollections collections, KnowledgeBaseServerOptions options)
    {
        var (services, missing) = await CollectionAccess.ForWriteAsync(context, collections, options, name).ConfigureAwait(false);
        if (missing is not null)
        {
            return missing;
        }

        // Among the collection's writes, so it neither races an ingestion job's run nor is undone by it.
        string documentId = DocumentId(id);
        int deleted = await services!.WriteAsync(token => services.Collection.DeleteDocumentsAsync([documentId], token), context.RequestAborted).ConfigureAwait(false);
        return deleted > 0 ? TypedResults.NoContent() : NoDocument(documentId, name);
    }

    private static bool TryParse(string? text, int absent, int min, int max, out int value)
    {
        if (text is null)
        {
            value = absent;
            return true;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= min && value <= max;
    }
}

/// <summary>What an accepted upload returns (202, with Location: its job).</summary>
public sealed record JobAccepted(string JobId, string Collection, int Files, string StatusUrl);

/// <summary>A page of a collection's documents, by id.</summary>
public sealed record DocumentList(IReadOnlyList<DocumentResult> Documents, int Total, int Offset, int Limit);

/// <summary>A document as the API describes it.</summary>
public sealed record DocumentResult(string DocumentId, string Source, int Passages, DateTimeOffset IndexedAt, string ContentHash)
{
    internal static DocumentResult From(DocumentRecord record) => new(record.DocumentId, record.Source, record.PassageCount, record.IndexedAt, record.ContentHash);
}
