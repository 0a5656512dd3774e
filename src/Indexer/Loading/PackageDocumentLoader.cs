using System.Runtime.CompilerServices;
using T5Gemma2.Rag.Indexer.Documents;

namespace T5Gemma2.Rag.Indexer.Loading;

/// <summary>
/// A loader of a binary package format (PDF, DOCX) whose parser needs the whole file: reads it once, gives a 0-byte
/// file an empty document (reported as "without text" by the pipeline), and leaves the parsing to the format.
/// </summary>
public abstract class PackageDocumentLoader : IDocumentLoader
{
    /// <inheritdoc/>
    public abstract IReadOnlyCollection<string> Extensions { get; }

    /// <inheritdoc/>
    public async IAsyncEnumerable<LoadedDocument> LoadAsync(DocumentFile file, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(file);
        byte[] bytes = await LoaderIO.ReadAllBytesAsync(file, cancellationToken).ConfigureAwait(false);
        yield return bytes.Length == 0
            ? new LoadedDocument { DocumentId = file.DocumentId, Source = file.Source, Text = string.Empty }
            : this.Parse(file, bytes, cancellationToken);
    }

    /// <summary>Parses a non-empty file; throws <see cref="DocumentLoadException"/> when it is not of the format.</summary>
    protected abstract LoadedDocument Parse(DocumentFile file, byte[] bytes, CancellationToken cancellationToken);
}
