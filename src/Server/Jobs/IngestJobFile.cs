namespace T5Gemma2.Rag.Server.Jobs;

/// <summary>One uploaded file of a job.</summary>
/// <param name="Ordinal">Its place in the upload, from 0.</param>
/// <param name="Name">The name the document is known by: the sender's file name, made safe (<see cref="UploadNames"/>).</param>
/// <param name="StagedPath">Where it is staged, relative to the uploads folder (<c>{job}/{ordinal}{extension}</c>): a generated name, never the sender's.</param>
/// <param name="Bytes">Its size.</param>
/// <param name="State">Queued, done or failed.</param>
/// <param name="Reason">Why it failed, one line; null otherwise.</param>
/// <param name="DocumentId">The id of its document in the collection (the id prefix of a record file's documents).</param>
public sealed record IngestJobFile(int Ordinal, string Name, string StagedPath, long Bytes, IngestFileState State, string? Reason, string DocumentId);
