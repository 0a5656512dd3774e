using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using T5Gemma2.Rag.Indexer.Documents;
using T5Gemma2.Rag.Indexer.Pipeline;
using T5Gemma2.Rag.Server.Collections;

namespace T5Gemma2.Rag.Server.Jobs;

/// <summary>
/// Runs the ingestion jobs, one at a time in the order they were accepted: marks the job running, indexes its staged
/// files with the collection's pipeline (inside the collection's write lock), records each file's end and the job's,
/// then deletes the staged files. At startup it puts back in the queue the jobs a killed process left running —
/// running a file again is harmless, as unchanged documents are skipped and each document is replaced atomically —
/// and deletes staging folders no unfinished job holds (an upload killed before its 202).
/// </summary>
internal sealed partial class IngestJobWorker(IngestJobStore jobs, UploadStaging staging, IngestJobEvents events, KnowledgeBaseCollections collections, ILogger<IngestJobWorker> logger) : BackgroundService
{
    private static readonly TimeSpan s_poll = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan s_maxBackoff = TimeSpan.FromMinutes(5);
    private TimeSpan _backoff = TimeSpan.FromSeconds(5);

    /// <summary>Recovers what a previous process left before the first job runs.</summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        this.Recover();
        return base.StartAsync(cancellationToken);
    }

    /// <summary>Requeues jobs left running and deletes staging folders of no unfinished job.</summary>
    internal void Recover()
    {
        var (requeued, failed) = jobs.RequeueRunning(DateTimeOffset.UtcNow);
        if (requeued + failed > 0)
        {
            Log.Requeued(logger, requeued, failed, IngestJobStore.MaxInterruptions);
        }

        if (!Directory.Exists(jobs.UploadsDirectory))
        {
            return;
        }

        var keep = jobs.UnfinishedIds();
        foreach (string entry in Directory.EnumerateFileSystemEntries(jobs.UploadsDirectory))
        {
            // Only what has a job id's name: nothing else in the folder is the worker's to remove.
            string id = Path.GetFileName(entry);
            if (!IngestJobStore.IsId(id) || keep.Contains(id) || staging.IsStaging(id))
            {
                continue;
            }

            Log.Orphan(logger, entry);
            DeleteStaged(entry);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            // Taken before the read, so a job queued between the read and the wait wakes the worker.
            var queued = events.NextQueued;
            try
            {
                if (jobs.NextQueued() is { } job)
                {
                    if (await this.RunAsync(job, stoppingToken).ConfigureAwait(false))
                    {
                        continue;
                    }

                    // The store could not be written: wait before the job (still first in the queue) is tried again.
                    await Task.Delay(this._backoff, stoppingToken).ConfigureAwait(false);
                    this._backoff = TimeSpan.FromTicks(Math.Min(this._backoff.Ticks * 2, s_maxBackoff.Ticks));
                    continue;
                }
            }
            catch (Exception ex) when (ex is SqliteException or IOException or UnauthorizedAccessException)
            {
                // The service database or the uploads folder failed under the worker: the job stays as it was (a
                // running one is requeued by the next start); try again later.
                Log.WorkerFault(logger, ex);
            }

            await Task.WhenAny(queued, Task.Delay(s_poll, stoppingToken)).ConfigureAwait(false);
        }
    }

    private static IngestJobOutcome Outcome(IngestJob job, IngestSummary summary)
    {
        var reasons = summary.Failures.GroupBy(f => f.Path, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Select(f => f.Reason).ToList(), StringComparer.Ordinal);
        var files = job.Files.Select(f => reasons.TryGetValue(f.Name, out var why)
            ? (f.Ordinal, IngestFileState.Failed, (string?)(why.Count == 1 ? why[0] : $"{why[0]} (and {why.Count - 1} more)"))
            : (f.Ordinal, IngestFileState.Done, null)).ToList();
        return new IngestJobOutcome(
            files.Any(f => f.Item2 == IngestFileState.Failed) ? IngestJobState.CompletedWithErrors : IngestJobState.Succeeded,
            summary.PassagesNew + summary.PassagesReused + summary.PassagesUnchanged,
            summary.DocumentsNew,
            summary.DocumentsChanged,
            summary.DocumentsUnchanged,
            null,
            files);
    }

    /// <summary>
    /// Records the job's end, trying again while the service database is busy: a job whose end cannot be written would
    /// stay "running", holding a queue place, until a restart. The write is one transaction, so a retry is safe.
    /// </summary>
    private async Task FinishAsync(string id, IngestJobOutcome outcome, CancellationToken stoppingToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                jobs.Finish(id, outcome, DateTimeOffset.UtcNow);
                return;
            }
            catch (SqliteException ex) when (attempt < 5)
            {
                Log.FinishRetried(logger, id, attempt, ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(attempt), stoppingToken).ConfigureAwait(false);
            }
        }
    }

    private void DeleteStaged(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
            else
            {
                File.Delete(path);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.DeleteFailed(logger, path, ex.Message);
        }
    }

    /// <summary>Runs the job; false when the store could not be written and the job went back to the queue with its files.</summary>
    private async Task<bool> RunAsync(IngestJob job, CancellationToken stoppingToken)
    {
        jobs.Start(job.Id, DateTimeOffset.UtcNow);
        events.JobChanged();
        Log.Started(logger, job.Id, job.Collection, job.Files.Count);
        IngestJobOutcome outcome;
        try
        {
            // The upload created the collection; one deleted since then is not brought back by its queued jobs.
            var services = await collections.OpenAsync(job.Collection, stoppingToken).ConfigureAwait(false)
                ?? throw new CollectionDeletedException($"collection '{job.Collection}' was deleted after this job was accepted; nothing was indexed.");
            var files = job.Files.Select(f => new DocumentFile(Path.Combine(jobs.UploadsDirectory, f.StagedPath), f.Name) { Source = f.Name }).ToList();
            var progress = new IngestJobProgress(jobs, events, job.Id);
            var summary = await services.WriteAsync(token => services.Pipeline.IndexFilesAsync(files, job.Tags, progress, token), stoppingToken).ConfigureAwait(false);
            outcome = Outcome(job, summary);
            this._backoff = TimeSpan.FromSeconds(5);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The server is stopping: the job goes back to the queue with its files, and the next start finishes it.
            jobs.Requeue(job.Id);
            events.JobChanged();
            Log.Interrupted(logger, job.Id);
            return true;
        }
        catch (T5RagException ex) when (ex.Kind is FailureKind.StoreUnavailable or FailureKind.StoreWriteFailed)
        {
            // A store that is down or a disk that is full: the job was acknowledged, so it waits with its files rather
            // than failing (the same run can be repeated once the cause is gone).
            jobs.Requeue(job.Id);
            events.JobChanged();
            Log.StoreUnavailable(logger, job.Id, ex.Message, this._backoff.TotalSeconds);
            return false;
        }
        catch (Exception ex)
        {
            string error = ex is T5RagException failure ? failure.Message : $"unexpected {ex.GetType().Name} inside t5rag (a bug; the server log has the details): {ex.Message.Split('\n')[0]}";
            Log.RunFailed(logger, job.Id, ex);
            outcome = new IngestJobOutcome(IngestJobState.Failed, 0, 0, 0, 0, error, [.. job.Files.Select(f => (f.Ordinal, IngestFileState.Failed, (string?)$"not indexed: the job's run failed ({error})"))]);
        }

        await this.FinishAsync(job.Id, outcome, stoppingToken).ConfigureAwait(false);
        this.DeleteStaged(Path.Combine(jobs.UploadsDirectory, job.Id));
        events.JobChanged();
        Log.Finished(logger, job.Id, IngestJobStore.Name(outcome.State), outcome.Files.Count(f => f.State == IngestFileState.Failed), outcome.Passages);
        return true;
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Ingestion job {JobId}: {Files} files into collection {Collection}")]
        public static partial void Started(ILogger logger, string jobId, string collection, int files);

        [LoggerMessage(2, LogLevel.Information, "Ingestion job {JobId}: {State}, {Failed} files failed, {Passages} passages")]
        public static partial void Finished(ILogger logger, string jobId, string state, int failed, long passages);

        [LoggerMessage(3, LogLevel.Error, "Ingestion job {JobId}: the run failed")]
        public static partial void RunFailed(ILogger logger, string jobId, Exception exception);

        [LoggerMessage(4, LogLevel.Information, "Ingestion job {JobId}: stopped with the server; it stays queued")]
        public static partial void Interrupted(ILogger logger, string jobId);

        [LoggerMessage(5, LogLevel.Warning, "Ingestion jobs left running by the last process: {Requeued} queued again, {Failed} failed (interrupted {Max} times)")]
        public static partial void Requeued(ILogger logger, int requeued, int failed, int max);

        [LoggerMessage(10, LogLevel.Warning, "Ingestion job {JobId}: recording its end failed (attempt {Attempt}: {Reason}); trying again")]
        public static partial void FinishRetried(ILogger logger, string jobId, int attempt, string reason);

        [LoggerMessage(9, LogLevel.Warning, "Ingestion job {JobId}: the store cannot be written now ({Reason}); the job stays queued with its files and is tried again in {Seconds} s")]
        public static partial void StoreUnavailable(ILogger logger, string jobId, string reason, double seconds);

        [LoggerMessage(6, LogLevel.Warning, "Removing {Path}: staged by an upload that was never acknowledged, or by a finished job")]
        public static partial void Orphan(ILogger logger, string path);

        [LoggerMessage(7, LogLevel.Warning, "Cannot remove {Path}: {Reason}")]
        public static partial void DeleteFailed(ILogger logger, string path, string reason);

        [LoggerMessage(8, LogLevel.Error, "The ingestion worker could not read or update the service database; retrying")]
        public static partial void WorkerFault(ILogger logger, Exception exception);
    }
}
