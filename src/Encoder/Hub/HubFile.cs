namespace T5Gemma2.Rag.Encoder.Hub;

/// <summary>A file of a Hub repository at a revision, with what the Hub says its content hashes to.</summary>
/// <param name="Path">The path inside the repository.</param>
/// <param name="Size">Bytes, when the Hub lists it.</param>
/// <param name="Sha256">The LFS content sha256 (weights), lower-case hex; null for files kept in git.</param>
/// <param name="GitBlobId">The git blob sha1 of files kept in git; null when not listed.</param>
public sealed record HubFile(string Path, long? Size, string? Sha256, string? GitBlobId);
