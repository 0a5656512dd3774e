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

    /// <summary>Recovers what a previous process left before the first job runs.</summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        this.Recover();
        return base.StartAsync(cancellationToken);
    }

    /// <summary>Requeues jobs left running and deletes staging folders of no unfinished job.</summary>
    internal void Recover()
    {
        int requeued = jobs.RequeueRunning();
        if (requeued > 0)
        {
            Log.Requeued(logger, requeued);
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
                    await this.RunAsync(job, stoppingToken).ConfigureAwait(false);
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

    private async Task RunAsync(IngestJob job, CancellationToken stoppingToken)
    {
        jobs.Start(job.Id, DateTimeOffset.UtcNow);
        events.JobChanged();
        Log.Started(logger, job.Id, job.Collection, job.Files.Count);
        IngestJobOutcome outcome;
        try
        {
            var services = await collections.OpenOrCreateAsync(job.Collection, stoppingToken).ConfigureAwait(false);
            var files = job.Files.Select(f => new DocumentFile(Path.Combine(jobs.UploadsDirectory, f.StagedPath), f.Name) { Source = f.Name }).ToList();
            var progress = new IngestJobProgress(jobs, events, job.Id);
            var summary = await services.WriteAsync(token => services.Pipeline.IndexFilesAsync(files, job.Tags, progress, token), stoppingToken).ConfigureAwait(false);
            outcome = Outcome(job, summary);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The server is stopping: the job goes back to the queue with its files, and the next start finishes it.
            jobs.Requeue(job.Id);
            events.JobChanged();
            Log.Interrupted(logger, job.Id);
            return;
        }
        catch (Exception ex)
        {
            string error = ex is T5RagException failure ? failure.Message : $"unexpected {ex.GetType().Name} inside t5rag (a bug; the server log has the details): {ex.Message.Split('\n')[0]}";
            Log.RunFailed(logger, job.Id, ex);
            outcome = new IngestJobOutcome(IngestJobState.Failed, 0, 0, 0, 0, error, [.. job.Files.Select(f => (f.Ordinal, IngestFileState.Failed, (string?)$"not indexed: the job's run failed ({error})"))]);
        }

        jobs.Finish(job.Id, outcome, DateTimeOffset.UtcNow);
        this.DeleteStaged(Path.Combine(jobs.UploadsDirectory, job.Id));
        events.JobChanged();
        Log.Finished(logger, job.Id, IngestJobStore.Name(outcome.State), outcome.Files.Count(f => f.State == IngestFileState.Failed), outcome.Passages);
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

        [LoggerMessage(5, LogLevel.Warning, "{Count} ingestion jobs were left running by the last process; queued again")]
        public static partial void Requeued(ILogger logger, int count);

        [LoggerMessage(6, LogLevel.Warning, "Removing {Path}: staged by an upload that was never acknowledged, or by a finished job")]
        public static partial void Orphan(ILogger logger, string path);

        [LoggerMessage(7, LogLevel.Warning, "Cannot remove {Path}: {Reason}")]
        public static partial void DeleteFailed(ILogger logger, string path, string reason);

        [LoggerMessage(8, LogLevel.Error, "The ingestion worker could not read or update the service database; retrying")]
        public static partial void WorkerFault(ILogger logger, Exception exception);
    }
}
