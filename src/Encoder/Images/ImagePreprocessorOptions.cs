namespace T5Gemma2.Rag.Encoder.Images;

/// <summary>What <see cref="ImagePreprocessor"/> produces and the limits that protect it from hostile files.</summary>
public sealed class ImagePreprocessorOptions
{
    /// <summary>64 megapixels: a 9000 × 7000 photo decodes (256 MiB as RGBA); a decompression bomb does not.</summary>
    public const long DefaultMaxDecodedPixels = 64L * 1000 * 1000;

    /// <summary>100 MiB, the indexer's limit on any one file.</summary>
    public const long DefaultMaxFileBytes = 100L * 1024 * 1024;

    /// <param name="imageSize">The vision tower's input side in pixels (the config's <c>image_size</c>: 896, or 28 in the tiny preset).</param>
    public ImagePreprocessorOptions(int imageSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(imageSize, 1);
        this.ImageSize = imageSize;
    }

    /// <summary>Every image is resized to ImageSize × ImageSize (no aspect preservation, no crop), as the processor does.</summary>
    public int ImageSize { get; }

    /// <summary>The most pixels (width × height, from the file's header, before any decoding) an image may have.</summary>
    public long MaxDecodedPixels { get; init; } = DefaultMaxDecodedPixels;

    /// <summary>The largest file <see cref="ImagePreprocessor.Load"/> reads.</summary>
    public long MaxFileBytes { get; init; } = DefaultMaxFileBytes;
}
