namespace T5Gemma2.Rag.Indexer.Loading;

/// <summary>
/// The image file extensions the vision path decodes, and an encoded image's media type from its first bytes. A
/// stand-in for Part B's <c>ImageFormats</c> (helper pixels), removed when that merges.
/// </summary>
public static class ImageFileTypes
{
    /// <summary>The image file extensions, lower case with the dot.</summary>
    public static IReadOnlyList<string> Extensions { get; } = [".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp"];

    /// <summary>The media type the bytes' signature says (image/png, image/jpeg, image/gif, image/bmp, image/webp), or null.</summary>
    public static string? Sniff(ReadOnlySpan<byte> data) =>
        data.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G']) ? "image/png"
        : data.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]) ? "image/jpeg"
        : data.StartsWith("GIF8"u8) ? "image/gif"
        : data.StartsWith("BM"u8) ? "image/bmp"
        : data.Length >= 12 && data.StartsWith("RIFF"u8) && data.Slice(8, 4).SequenceEqual("WEBP"u8) ? "image/webp"
        : null;
}
