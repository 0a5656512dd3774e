namespace T5Gemma2.Rag.Indexer.Documents;

/// <summary>
/// An image passage's encoded bytes, kept in the store so answering needs no source file.
/// </summary>
/// <param name="MediaType">The image's media type (image/png, image/jpeg, …).</param>
/// <param name="Data">The encoded image.</param>
public sealed record PassageImage(string MediaType, byte[] Data);
