using T5Gemma2.Rag.Indexer.Documents;
using T5Gemma2.Rag.Indexer.Loading;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Loading;

/// <summary>Loads files through a loader and checks what every loader promises: sections cover the text in order.</summary>
internal static class LoaderAssert
{
    public static async Task<List<LoadedDocument>> LoadAsync(IDocumentLoader loader, string path, string? relativePath = null)
    {
        var documents = new List<LoadedDocument>();
        await foreach (var document in loader.LoadAsync(new DocumentFile(path, relativePath ?? Path.GetFileName(path)), TestContext.Current.CancellationToken))
        {
            SectionsCoverText(document);
            documents.Add(document);
        }

        return documents;
    }

    public static async Task<LoadedDocument> LoadSingleAsync(IDocumentLoader loader, string path, string? relativePath = null) =>
        Assert.Single(await LoadAsync(loader, path, relativePath));

    public static async Task<DocumentLoadException> FailsAsync(IDocumentLoader loader, string path)
    {
        var ex = await Assert.ThrowsAsync<DocumentLoadException>(() => LoadAsync(loader, path));
        Assert.Equal(path, ex.Path);
        Assert.DoesNotContain('\n', ex.Message);
        return ex;
    }

    /// <summary>Sections start at 0, each where the previous ends, none empty, the last at the end of the text.</summary>
    public static void SectionsCoverText(LoadedDocument document)
    {
        int position = 0;
        foreach (var section in document.Sections)
        {
            Assert.True(section.Start == position, $"{document.DocumentId}: section at {section.Start} should start at {position}");
            Assert.True(section.Length > 0, $"{document.DocumentId}: empty section at {section.Start}");
            position += section.Length;
        }

        Assert.True(document.Sections.Count == 0 || position == document.Text.Length, $"{document.DocumentId}: sections end at {position}, the text at {document.Text.Length}");
        Assert.DoesNotContain('\r', document.Text);
    }

    /// <summary>A document id with the temporary directory's path and separator taken off the front (ids are full paths).</summary>
    public static string UnderTemp(TempDirectory temp, string documentId)
    {
        string prefix = temp.Path.Replace('\\', '/') + "/";
        return documentId.StartsWith(prefix, StringComparison.Ordinal) ? documentId[prefix.Length..] : documentId;
    }

    public static string TextOf(LoadedDocument document, DocumentSection section) => document.Text.Substring(section.Start, section.Length);

    /// <summary>The section with <paramref name="headingPath"/>, exactly one.</summary>
    public static DocumentSection Section(LoadedDocument document, string? headingPath) => Assert.Single(document.Sections, s => s.HeadingPath == headingPath);
}
