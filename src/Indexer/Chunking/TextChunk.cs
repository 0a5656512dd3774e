namespace T5Gemma2.Rag.Indexer.Chunking;

/// <summary>
/// One chunk of a document: a span of <see cref="Documents.LoadedDocument.Text"/> rather than a copy, so that citations
/// can point at the exact characters and neighbouring chunks can be merged back.
/// </summary>
/// <param name="Start">First character of the chunk in the document's text (never whitespace).</param>
/// <param name="Length">Characters in the chunk; its text is <c>Text.Substring(Start, Length)</c> (never ends in whitespace).</param>
/// <param name="HeadingPath">The heading path of the one section the chunk lies in.</param>
/// <param name="Page">The page of that section, where the format has pages.</param>
/// <param name="TokenCount">The chunk's tokens as the model's tokenizer counts its text, special tokens excluded; at most <see cref="ChunkingOptions.MaxTokens"/>.</param>
/// <param name="Index">0-based position of the chunk in its document.</param>
public sealed record TextChunk(int Start, int Length, string? HeadingPath, int? Page, int TokenCount, int Index)
{
    /// <summary>One past the chunk's last character.</summary>
    public int End => this.Start + this.Length;

    /// <summary>The chunk's text, cut from the text of the document it was made from.</summary>
    public string GetText(string documentText)
    {
        ArgumentNullException.ThrowIfNull(documentText);
        return documentText.Substring(this.Start, this.Length);
    }
}
