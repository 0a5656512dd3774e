using T5Gemma2.Rag.Indexer.Documents;

namespace T5Gemma2.Rag.Indexer.Loading;

/// <summary>Reads one file format into <see cref="LoadedDocument"/>s (one per file, or one per record for record files).</summary>
public interface IDocumentLoader
{
    /// <summary>The file extensions this loader reads, lower case with the dot (".md").</summary>
    IReadOnlyCollection<string> Extensions { get; }

    /// <summary>Reads the file; throws <see cref="DocumentLoadException"/> with a one-line reason when it cannot.</summary>
    IAsyncEnumerable<LoadedDocument> LoadAsync(DocumentFile file, CancellationToken cancellationToken = default);
}
