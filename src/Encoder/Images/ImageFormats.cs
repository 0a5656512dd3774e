namespace T5Gemma2.Rag.Encoder.Images;

/// <summary>The image formats the preprocessor decodes, by extension and by their leading bytes.</summary>
public static class ImageFormats
{
    private static ReadOnlySpan<byte> PngSignature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Start of image, then the first marker's 0xFF.</summary>
    private static ReadOnlySpan<byte> JpegStart => [0xFF, 0xD8, 0xFF];

    /// <summary>The extensions (lower case, with the dot) of the formats we decode.</summary>
    public static IReadOnlyList<string> Extensions { get; } = [".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp"];

    /// <summary>Whether the path's extension (any case) is one we decode; the content is not read.</summary>
    public static bool IsImageFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string extension = Path.GetExtension(path);
        return Extensions.Any(known => string.Equals(known, extension, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>The media type the bytes begin like (image/png, image/jpeg, image/webp, image/gif, image/bmp), or null.</summary>
    public static string? Sniff(ReadOnlySpan<byte> encoded)
    {
        if (encoded.StartsWith(PngSignature))
        {
            return "image/png";
        }

        if (encoded.StartsWith(JpegStart))
        {
            return "image/jpeg";
        }

        if (encoded.StartsWith("GIF87a"u8) || encoded.StartsWith("GIF89a"u8))
        {
            return "image/gif";
        }

        if (encoded.Length >= 12 && encoded.StartsWith("RIFF"u8) && encoded[8..12].SequenceEqual("WEBP"u8))
        {
            return "image/webp";
        }

        // "BM" then a header size among the BITMAPINFOHEADER family, so text beginning "BM" is not taken for one.
        if (encoded.Length >= 18 && encoded.StartsWith("BM"u8))
        {
            int infoSize = BitConverter.ToInt32(encoded[14..18]);
            return infoSize is 12 or 40 or 52 or 56 or 64 or 108 or 124 ? "image/bmp" : null;
        }

        return null;
    }
}
