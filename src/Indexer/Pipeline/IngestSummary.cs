namespace T5Gemma2.Rag.Indexer.Pipeline;

/// <summary>What a run did: the counts a user checks, the files that failed with their reasons, and time per stage.</summary>
public sealed class IngestSummary
{
    public int FilesFound { get; set; }

    public int FilesRead { get; set; }

    /// <summary>Files (or records) that could not be indexed, each with a one-line reason; the run went on without them.</summary>
    public List<(string Path, string Reason)> Failures { get; } = [];

    /// <summary>Records of record files left out (bad JSON lines), each with its location and reason.</summary>
    public List<string> SkippedRecords { get; } = [];

    /// <summary>Files inside walked directories that no loader reads.</summary>
    public int UnsupportedFiles { get; set; }

    /// <summary>Symbolic links out of the indexed folders that were not followed (<see cref="Loading.DirectoryWalkOptions.FollowLinksOutside"/>).</summary>
    public int LinksNotFollowed { get; set; }

    public int DocumentsNew { get; set; }

    public int DocumentsChanged { get; set; }

    public int DocumentsUnchanged { get; set; }

    /// <summary>Documents that loaded with no text (indexed with no passages).</summary>
    public int DocumentsEmpty { get; set; }

    public int DocumentsPruned { get; set; }

    /// <summary>Passages embedded by this run.</summary>
    public long PassagesNew { get; set; }

    /// <summary>Image passages embedded by this run (counted in <see cref="PassagesNew"/> too).</summary>
    public long ImagePassagesNew { get; set; }

    /// <summary>Images left out as too small to carry content (icons, bullets; under 32 pixels a side).</summary>
    public int ImagesSkipped { get; set; }

    /// <summary>Images left out because the embedding model takes none (a text-only model).</summary>
    public int ImagesNotEmbedded { get; set; }

    /// <summary>Passages of changed documents whose text was already stored: their vectors were reused, not recomputed.</summary>
    public long PassagesReused { get; set; }

    /// <summary>Passages of unchanged documents, left as they were.</summary>
    public long PassagesUnchanged { get; set; }

    /// <summary>Passages removed: old passages of changed documents, and those of pruned documents.</summary>
    public long PassagesRemoved { get; set; }

    /// <summary>Tokens of the passages embedded (special tokens excluded).</summary>
    public long TokensEmbedded { get; set; }

    /// <summary>Characters replaced by U+FFFD while decoding text.</summary>
    public long ReplacedCharacters { get; set; }

    public TimeSpan LoadTime { get; set; }

    public TimeSpan ChunkTime { get; set; }

    public TimeSpan EmbedTime { get; set; }

    public TimeSpan WriteTime { get; set; }

    public TimeSpan Elapsed { get; set; }

    /// <summary>True when every file found was indexed (unsupported files and skipped records aside).</summary>
    public bool Succeeded => this.Failures.Count == 0;
}
