namespace T5Gemma2.Rag.Server.Jobs;

/// <summary>
/// An upload's files staged on disk under <c>.uploads/{job id}/</c>, each synced, the folder too. Disposing it removes
/// the folder unless <see cref="Keep"/> was called once the job row holding it was committed: an upload refused
/// half-way (too large, a bad part, a full queue, the client gone) leaves nothing behind.
/// </summary>
public sealed class StagedUpload : IDisposable
{
    private readonly Action<StagedUpload> _release;
    private bool _kept;

    internal StagedUpload(string jobId, string directory, Action<StagedUpload> release)
    {
        this.JobId = jobId;
        this.Directory = directory;
        this._release = release;
    }

    /// <summary>The job the files are for.</summary>
    public string JobId { get; }

    /// <summary>The staging folder.</summary>
    public string Directory { get; }

    /// <summary>The staged files, in upload order.</summary>
    public List<IngestJobFile> Files { get; } = [];

    /// <summary>The upload's tags (its <c>tags</c> parts).</summary>
    public Dictionary<string, string> Tags { get; } = new(StringComparer.Ordinal);

    /// <summary>Bytes staged so far, all files together.</summary>
    public long Bytes { get; internal set; }

    /// <summary>The files now belong to a committed job: disposing leaves them.</summary>
    public void Keep() => this._kept = true;

    public void Dispose()
    {
        if (!this._kept)
        {
            try
            {
                if (System.IO.Directory.Exists(this.Directory))
                {
                    System.IO.Directory.Delete(this.Directory, recursive: true);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Left for the startup sweep, which removes staging folders no job holds.
            }
        }

        this._release(this);
    }
}
