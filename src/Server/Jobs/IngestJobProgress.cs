using System.Diagnostics;
using Microsoft.Data.Sqlite;
using T5Gemma2.Rag.Indexer.Pipeline;

namespace T5Gemma2.Rag.Server.Jobs;

/// <summary>
/// A running job's progress as the pipeline reports it: files read and cut over files in the job, written to the
/// job's row at most every <see cref="MinInterval"/> (and whenever all files are read), kept under 1 until the job has
/// finished — its last passages may still be embedding when the last file is read.
/// </summary>
internal sealed class IngestJobProgress(IngestJobStore jobs, IngestJobEvents events, string jobId) : IProgress<IngestProgress>
{
    /// <summary>The most a running job reports: 1 means finished.</summary>
    public const double MaxWhileRunning = 0.99;

    private static readonly TimeSpan MinInterval = TimeSpan.FromMilliseconds(250);

    private readonly Lock _gate = new();
    private long _lastWrite;
    private double _written;

    public void Report(IngestProgress value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.FilesTotal == 0)
        {
            return;
        }

        double progress = Math.Min((double)value.FilesRead / value.FilesTotal, MaxWhileRunning);
        lock (this._gate)
        {
            bool due = this._lastWrite == 0 || Stopwatch.GetElapsedTime(this._lastWrite) >= MinInterval || progress >= MaxWhileRunning;
            if (progress <= this._written || !due)
            {
                return;
            }

            this._written = progress;
            this._lastWrite = Stopwatch.GetTimestamp();
        }

        try
        {
            jobs.SetProgress(jobId, progress);
        }
        catch (SqliteException)
        {
            // Progress is advice; a busy or failing database must not stop the run (its end is recorded apart).
            return;
        }

        events.JobChanged();
    }
}
