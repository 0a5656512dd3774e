using System.Runtime.CompilerServices;
using T5Gemma2.Rag.Indexer.Documents;

namespace T5Gemma2.Rag.Indexer.Loading;

/// <summary>
/// Reads a plain text file as one document with one section: the text decoded by <see cref="TextDecoder"/>. An empty
/// file gives a document with empty text and no sections (the pipeline reports it as having no text).
/// </summary>
public sealed class PlainTextLoader : IDocumentLoader
{
    private static readonly string[] s_extensions = [".txt", ".text", ".log", ".csv", ".tsv", ".rst"];

    /// <inheritdoc/>
    public IReadOnlyCollection<string> Extensions => s_extensions;

    /// <inheritdoc/>
    public async IAsyncEnumerable<LoadedDocument> LoadAsync(DocumentFile file, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(file);
        var decoded = await TextDecoder.ReadFileAsync(file, cancellationToken).ConfigureAwait(false);
        yield return new LoadedDocument
        {
            DocumentId = file.DocumentId,
            Source = file.Source,
            Text = decoded.Text,
            Sections = decoded.Text.Length == 0 ? [] : [new DocumentSection(0, decoded.Text.Length)],
            ReplacedCharacters = decoded.ReplacedCharacters,
        };
    }
}
