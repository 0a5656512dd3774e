namespace T5Gemma2.Rag.Indexer.Pipeline;

/// <summary>Where a run stands, reported as it goes.</summary>
/// <param name="FilesTotal">Files found by the walk (0 when indexing documents that come from no file).</param>
/// <param name="FilesRead">Files loaded and chunked so far.</param>
/// <param name="DocumentsWritten">Documents written to the collection so far (new or changed).</param>
/// <param name="PassagesEmbedded">Passages embedded so far.</param>
/// <param name="TokensEmbedded">Their tokens.</param>
/// <param name="Elapsed">Time since the run started.</param>
/// <param name="ImagesEmbedded">Image passages embedded so far (counted in <paramref name="PassagesEmbedded"/> too).</param>
public sealed record IngestProgress(int FilesTotal, int FilesRead, long DocumentsWritten, long PassagesEmbedded, long TokensEmbedded, TimeSpan Elapsed, long ImagesEmbedded = 0);
