namespace T5Gemma2.Rag.Indexer.Loading;

/// <summary>
/// The loaders by file extension: which loader reads a file, and which extensions can be indexed at all. Extensions
/// match case-insensitively and the longest wins, so "corpus.jsonl.gz" goes to the gzip JSON lines reader.
/// </summary>
public sealed class DocumentLoaders
{
    private readonly Dictionary<string, IDocumentLoader> _byExtension = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Registers <paramref name="loaders"/>; a later loader claiming an extension replaces an earlier one.</summary>
    public DocumentLoaders(IEnumerable<IDocumentLoader> loaders)
    {
        ArgumentNullException.ThrowIfNull(loaders);
        var all = new List<IDocumentLoader>();
        foreach (var loader in loaders)
        {
            ArgumentNullException.ThrowIfNull(loader, nameof(loaders));
            all.Add(loader);
            foreach (string extension in loader.Extensions)
            {
                if (extension.Length < 2 || extension[0] != '.')
                {
                    throw new ArgumentException($"{loader.GetType().Name} claims \"{extension}\"; expected an extension with its dot, like \".md\".", nameof(loaders));
                }

                this._byExtension[extension] = loader;
            }
        }

        this.Loaders = all;
        this.Extensions = [.. this._byExtension.Keys.Select(e => e.ToLowerInvariant()).Order(StringComparer.Ordinal)];
    }

    /// <summary>The registered loaders, in registration order.</summary>
    public IReadOnlyList<IDocumentLoader> Loaders { get; }

    /// <summary>Every extension some loader reads, lower case with the dot, sorted.</summary>
    public IReadOnlyList<string> Extensions { get; }

    /// <summary>
    /// The built-in loaders: plain text, Markdown, HTML, PDF, DOCX, JSON records (read with <paramref name="json"/>) and image files.
    /// </summary>
    public static DocumentLoaders CreateDefault(JsonRecordLoaderOptions? json = null) => new(
    [
        new PlainTextLoader(),
        new MarkdownLoader(),
        new HtmlLoader(),
        new PdfLoader(),
        new DocxLoader(),
        new JsonRecordLoader(json),
        new ImageFileLoader(),
    ]);

    /// <summary>The loader for <paramref name="path"/> by its extension (the longest registered one it ends with), or null.</summary>
    public IDocumentLoader? ForFile(string path) => this.ExtensionOf(path) is { } extension ? this._byExtension[extension] : null;

    /// <summary>
    /// The registered extension <paramref name="path"/>'s name ends with, the longest one, lower case ("corpus.JSONL.gz":
    /// ".jsonl.gz"), or null when no loader reads it: what a file staged under another name must keep to be read the same.
    /// </summary>
    public string? ExtensionOf(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string name = Path.GetFileName(path);
        if (name.Length < 2)
        {
            return null;
        }

        // Each '.' in the name starts a candidate extension; the first (longest) registered one wins. A leading dot
        // (".bashrc") is a hidden name, not an extension.
        for (int dot = name.IndexOf('.', 1); dot > 0; dot = name.IndexOf('.', dot + 1))
        {
            if (this._byExtension.ContainsKey(name[dot..]))
            {
                return name[dot..].ToLowerInvariant();
            }
        }

        return null;
    }
}
