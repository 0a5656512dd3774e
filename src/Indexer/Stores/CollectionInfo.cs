namespace T5Gemma2.Rag.Indexer.Stores;

/// <summary>A collection's description, as `t5rag collections info` prints it.</summary>
public sealed record CollectionInfo(string Name, CollectionSettings Settings, long Documents, long Passages, DateTimeOffset CreatedAt, string Location);
