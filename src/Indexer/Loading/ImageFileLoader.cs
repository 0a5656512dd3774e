using System.Runtime.CompilerServices;
using T5Gemma2.Rag.Encoder.Images;
using T5Gemma2.Rag.Indexer.Documents;

namespace T5Gemma2.Rag.Indexer.Loading;

/// <summary>
/// An image file (.png .jpg .jpeg .webp .gif .bmp) as a document of one image passage, titled by its file name, with no
/// text of its own. A file that is not a readable image is a <see cref="DocumentLoadException"/>; a tiny one (an icon)
/// loads with no image, counted as skipped.
/// </summary>
public sealed class ImageFileLoader : IDocumentLoader
{
    /// <inheritdoc/>
    public IReadOnlyCollection<string> Extensions => ImageFormats.Extensions;

    /// <inheritdoc/>
    public async IAsyncEnumerable<LoadedDocument> LoadAsync(DocumentFile file, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(file);
        byte[] bytes = await LoaderIO.ReadAllBytesAsync(file, cancellationToken).ConfigureAwait(false);
        if (DocumentImageCollector.Check(bytes) is { } problem)
        {
            throw new DocumentLoadException(file.Source, problem);
        }

        var images = new DocumentImageCollector();
        images.Add(bytes, file.Source, nearbyText: string.Empty);
        yield return new LoadedDocument
        {
            DocumentId = file.DocumentId,
            Source = file.Source,
            Title = Path.GetFileName(file.Source),
            Text = string.Empty,
            Images = images.Images,
            SkippedImages = images.Skipped,
        };
    }
}
