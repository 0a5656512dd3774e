using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using T5Gemma2.Rag.Indexer.Documents;
using T5Gemma2.Rag.Indexer.Loading;
using T5Gemma2.Rag.Server.Hosting;
using T5Gemma2.Rag.Server.Problems;

namespace T5Gemma2.Rag.Server.Jobs;

/// <summary>
/// Streams a <c>multipart/form-data</c> upload to disk, part by part, never whole in memory: each <c>files</c> part
/// to <c>.uploads/{job id}/{ordinal}{extension}</c> (a generated name; the sender's name becomes the document's name,
/// made safe by <see cref="UploadNames"/>), counted against <see cref="KnowledgeBaseServerOptions.MaxUploadBytes"/>,
/// flushed to disk, then the folder synced; <c>tags</c> parts (<c>key=value</c>) into the job's tags. Anything wrong
/// is a problem that names the part, and the folder is removed.
/// </summary>
public sealed class UploadStaging
{
    /// <summary>Files one upload may hold at most.</summary>
    public const int MaxFiles = 10_000;

    /// <summary>The longest <c>tags</c> part, in bytes.</summary>
    public const int MaxTagBytes = 1024;

    /// <summary>The most <c>tags</c> parts one upload may carry: tags are stored on every passage.</summary>
    public const int MaxTags = 64;

    /// <summary>The loaders' extensions: what a file's name must end with to be indexed at all.</summary>
    private static readonly DocumentLoaders s_loaders = DocumentLoaders.CreateDefault();

    private readonly string _uploads;
    private readonly long _maxBytes;
    private readonly ConcurrentDictionary<string, StagedUpload> _staging = new(StringComparer.Ordinal);

    public UploadStaging(IngestJobStore jobs, KnowledgeBaseServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        ArgumentNullException.ThrowIfNull(options);
        this._uploads = jobs.UploadsDirectory;
        this._maxBytes = options.MaxUploadBytes;
    }

    /// <summary>Whether an upload is being staged into the job's folder now (the startup sweep leaves it).</summary>
    public bool IsStaging(string jobId) => this._staging.ContainsKey(jobId);

    /// <summary>Uploads being staged now: each will be a job, so they count against the queue bound before their bytes are read.</summary>
    public int Count => this._staging.Count;

    /// <summary>The request's files staged durably under a new job id, or the problem to answer with (nothing left on disk).</summary>
    public async Task<(StagedUpload? Upload, IResult? Problem)> StageAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var type) || !type.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            return (null, ProblemResponses.UnsupportedMediaType($"Content-Type '{request.ContentType}': expected multipart/form-data with one or more parts named 'files'."));
        }

        string? boundary = HeaderUtilities.RemoveQuotes(type.Boundary).Value;
        if (string.IsNullOrWhiteSpace(boundary) || boundary.Length > 200)
        {
            return (null, ProblemResponses.BadRequest("Content-Type multipart/form-data without a usable boundary; expected boundary=… (1 to 200 characters).", "Content-Type"));
        }

        if (request.ContentLength > this._maxBytes + (1 << 20))
        {
            return (null, this.TooLarge());
        }

        string id = IngestJobStore.NewId();
        var upload = new StagedUpload(id, Path.Combine(this._uploads, id), u => this._staging.TryRemove(u.JobId, out _));
        this._staging[id] = upload;
        try
        {
            DurableDirectory.Create(this._uploads);
            DurableDirectory.Create(upload.Directory);
            var problem = await this.ReadPartsAsync(upload, new MultipartReader(boundary, request.Body) { BodyLengthLimit = null }, cancellationToken).ConfigureAwait(false);
            if (problem is null && upload.Files.Count == 0)
            {
                problem = ProblemResponses.BadRequest("no file: expected one or more parts named 'files', each with a filename.", "files");
            }

            if (problem is not null)
            {
                upload.Dispose();
                return (null, problem);
            }

            // The files were flushed one by one; their names are in the folder, which is synced now, before any job row names them.
            DurableDirectory.Sync(upload.Directory);
            return (upload, null);
        }
        catch
        {
            upload.Dispose();
            throw;
        }
    }

    private static IResult Invalid(Exception ex) => ProblemResponses.BadRequest($"the multipart body is not valid: {ex.Message.Split('\n')[0]}");

    private IResult TooLarge() => ProblemResponses.TooLarge($"the upload is over the limit of {this._maxBytes:N0} bytes (T5Rag:MaxUploadBytes) for all its files together.");

    private async Task<IResult?> ReadPartsAsync(StagedUpload upload, MultipartReader reader, CancellationToken cancellationToken)
    {
        while (true)
        {
            MultipartSection? section;
            try
            {
                section = await reader.ReadNextSectionAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException && ex is not BadHttpRequestException)
            {
                return Invalid(ex);
            }

            if (section is null)
            {
                return null;
            }

            if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition) || !disposition.DispositionType.Equals("form-data", StringComparison.OrdinalIgnoreCase))
            {
                return ProblemResponses.BadRequest($"part {upload.Files.Count + upload.Tags.Count + 1} has no Content-Disposition: form-data; expected parts named 'files' and 'tags'.");
            }

            string part = HeaderUtilities.RemoveQuotes(disposition.Name).Value ?? string.Empty;
            var problem = part switch
            {
                "files" => await this.StageFileAsync(upload, section, disposition, cancellationToken).ConfigureAwait(false),
                "tags" => await ReadTagAsync(upload, section, cancellationToken).ConfigureAwait(false),
                _ => ProblemResponses.BadRequest($"part '{UploadNames.Printable(part)}' is not one this endpoint takes; expected 'files' (one per file) and 'tags' (key=value).", UploadNames.Printable(part)),
            };
            if (problem is not null)
            {
                return problem;
            }
        }
    }

    private async Task<IResult?> StageFileAsync(StagedUpload upload, MultipartSection section, ContentDispositionHeaderValue disposition, CancellationToken cancellationToken)
    {
        int ordinal = upload.Files.Count;
        string field = $"files[{ordinal}]";
        if (ordinal >= MaxFiles)
        {
            return ProblemResponses.BadRequest($"more than {MaxFiles:N0} files in one upload; send them in several.", "files");
        }

        string? given = HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value;
        var (name, wrong) = UploadNames.Normalize(given);
        if (name is null)
        {
            return ProblemResponses.BadRequest($"{field} {wrong}.", field);
        }

        if (s_loaders.ExtensionOf(name) is not { } extension)
        {
            return ProblemResponses.BadRequest($"{field} '{UploadNames.Printable(name)}': no loader reads this type of file; expected a name ending in one of {string.Join(", ", s_loaders.Extensions)}.", field);
        }

        if (upload.Files.FirstOrDefault(f => string.Equals(f.Name, name, StringComparison.Ordinal)) is { } twin)
        {
            return ProblemResponses.BadRequest($"{field} '{UploadNames.Printable(name)}' has the name of files[{twin.Ordinal}]; expected each document once per upload.", field);
        }

        string staged = $"{ordinal.ToString(CultureInfo.InvariantCulture)}{extension}";
        long bytes = 0;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
        try
        {
            var file = new FileStream(Path.Combine(upload.Directory, staged), FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 16, FileOptions.Asynchronous);
            await using (file.ConfigureAwait(false))
            {
                while (true)
                {
                    int read;
                    try
                    {
                        read = await section.Body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is InvalidDataException or IOException && ex is not BadHttpRequestException)
                    {
                        return Invalid(ex);
                    }

                    if (read == 0)
                    {
                        break;
                    }

                    bytes += read;
                    upload.Bytes += read;
                    if (upload.Bytes > this._maxBytes)
                    {
                        return this.TooLarge();
                    }

                    try
                    {
                        await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                    }
                    catch (IOException ex)
                    {
                        // The staging disk is full (or failing): the server's fault, not the request's; nothing is acknowledged.
                        return ProblemResponses.Problem(StatusCodes.Status507InsufficientStorage, "Insufficient storage", $"the upload cannot be staged: {ex.Message.Split('\n')[0]}");
                    }
                }

                // Its bytes on disk before the job that names it is committed.
                file.Flush(flushToDisk: true);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        upload.Files.Add(new IngestJobFile(ordinal, name, $"{upload.JobId}/{staged}", bytes, IngestFileState.Queued, null, PassageIds.ForFile(name)));
        return null;
    }

    private static async Task<IResult?> ReadTagAsync(StagedUpload upload, MultipartSection section, CancellationToken cancellationToken)
    {
        string value;
        try
        {
            using var limited = new LimitedReadStream(section.Body, MaxTagBytes);
            using var text = new StreamReader(limited, System.Text.Encoding.UTF8);
            value = await text.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (LimitedReadStream.LimitExceededException)
        {
            return ProblemResponses.BadRequest($"a tags part is over {MaxTagBytes:N0} bytes; expected key=value.", "tags");
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException && ex is not BadHttpRequestException)
        {
            return Invalid(ex);
        }

        int equals = value.IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0 || string.IsNullOrWhiteSpace(value[..equals]) || value.Any(char.IsControl))
        {
            return ProblemResponses.BadRequest($"tags part \"{UploadNames.Printable(value)}\": expected key=value, a non-empty key and no control characters.", "tags");
        }

        upload.Tags[value[..equals]] = value[(equals + 1)..];
        upload.Bytes += value.Length;
        return upload.Tags.Count > MaxTags ? ProblemResponses.BadRequest($"more than {MaxTags} tags parts; expected at most {MaxTags} key=value tags per upload.", "tags") : null;
    }
}
