namespace T5Gemma2.Rag.Encoder.Images;

/// <summary>
/// Turns an image file into the vision tower's <see cref="PixelValues"/> as the Hugging Face Gemma 3 processor does
/// with its PIL backend: decode (first frame), EXIF orientation, RGB without compositing alpha, Pillow's bilinear
/// resize to ImageSize × ImageSize (no aspect preservation), then (u8 − 127.5) / 127.5 in CHW order.
/// Thread-safe: it holds only its options.
/// </summary>
public sealed class ImagePreprocessor
{
    /// <summary>(u8 − 127.5) / 127.5 for every byte: the processor's rescale by 1/255 and normalisation with mean = std = 0.5.</summary>
    private static readonly float[] s_normalised = Enumerable.Range(0, 256).Select(u8 => (float)((u8 - 127.5) / 127.5)).ToArray();

    private readonly ImagePreprocessorOptions _options;

    private ImagePreprocessor(ImagePreprocessorOptions options)
    {
        this._options = options;
    }

    public int ImageSize => this._options.ImageSize;

    public static ImagePreprocessor Create(ImagePreprocessorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxDecodedPixels, 1, nameof(options.MaxDecodedPixels));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxFileBytes, 1, nameof(options.MaxFileBytes));
        return new ImagePreprocessor(options);
    }

    /// <summary>Reads and preprocesses the image file at <paramref name="path"/>.</summary>
    /// <exception cref="ImageFileException">Missing, unreadable, over the size limit, not an image, corrupt or truncated.</exception>
    public PixelValues Load(string path, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        cancellationToken.ThrowIfCancellationRequested();
        byte[] encoded;
        try
        {
            var file = new FileInfo(path);
            if (!file.Exists)
            {
                throw new ImageFileException(path, Directory.Exists(path) ? "is a directory; expected an image file." : "does not exist; expected an image file.");
            }

            if (file.Length > this._options.MaxFileBytes)
            {
                throw new ImageFileException(path, $"is {file.Length:N0} bytes; the limit is {this._options.MaxFileBytes:N0} (ImagePreprocessorOptions.MaxFileBytes).");
            }

            encoded = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ImageFileException(path, $"cannot be read ({e.Message}).", e);
        }

        cancellationToken.ThrowIfCancellationRequested();
        return this.Decode(encoded, path);
    }

    /// <summary>Preprocesses an encoded image held in memory; <paramref name="sourceName"/> names it in errors.</summary>
    /// <exception cref="ImageFileException">Over the size limit, not an image, corrupt or truncated.</exception>
    public PixelValues Decode(ReadOnlySpan<byte> encoded, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(sourceName);
        if (encoded.Length > this._options.MaxFileBytes)
        {
            throw new ImageFileException(sourceName, $"is {encoded.Length:N0} bytes; the limit is {this._options.MaxFileBytes:N0} (ImagePreprocessorOptions.MaxFileBytes).");
        }

        var image = DecodedImage.Decode(encoded, sourceName, this._options.MaxDecodedPixels);
        int size = this._options.ImageSize;
        byte[] resized = BilinearResampler.Resize(image.Pixels, image.Width, image.Height, size, size);
        return new PixelValues(size, size, Planar(resized, size * size));
    }

    /// <summary>Interleaved pixels (R, G, B, ignored) to normalised R, G and B planes.</summary>
    private static float[] Planar(byte[] interleaved, int pixels)
    {
        var values = new float[3 * pixels];
        for (int i = 0, p = 0; i < pixels; i++, p += BilinearResampler.Channels)
        {
            values[i] = s_normalised[interleaved[p]];
            values[pixels + i] = s_normalised[interleaved[p + 1]];
            values[(2 * pixels) + i] = s_normalised[interleaved[p + 2]];
        }

        return values;
    }
}
