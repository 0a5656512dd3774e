using SkiaSharp;

namespace T5Gemma2.Rag.Encoder.Images;

/// <summary>
/// An image decoded as transformers' <c>load_image</c> and PIL's <c>convert("RGB")</c> leave it: upright (EXIF
/// orientation applied) and with its colour bytes as stored, alpha not composited. Held as 4 bytes a pixel (R, G, B,
/// then alpha, which nothing reads), the layout Skia decodes into without a conversion pass.
/// </summary>
internal sealed class DecodedImage
{
    public const int Channels = 4;

    private const string ExpectedFormats = "PNG, JPEG, WebP, GIF or BMP";

    private DecodedImage(int width, int height, byte[] pixels)
    {
        this.Width = width;
        this.Height = height;
        this.Pixels = pixels;
    }

    public int Width { get; }

    public int Height { get; }

    /// <summary>Rows top to bottom, 4 bytes a pixel.</summary>
    public byte[] Pixels { get; }

    /// <summary>Decodes the first frame of <paramref name="encoded"/>, refusing anything over <paramref name="maxPixels"/> before decoding it.</summary>
    /// <exception cref="ImageFileException">Not an image, corrupt, truncated or too large.</exception>
    public static DecodedImage Decode(ReadOnlySpan<byte> encoded, string sourceName, long maxPixels)
    {
        if (encoded.IsEmpty)
        {
            throw new ImageFileException(sourceName, $"is empty (0 bytes); expected a {ExpectedFormats} image.");
        }

        string mediaType = ImageFormats.Sniff(encoded)
            ?? throw new ImageFileException(sourceName, $"is not a {ExpectedFormats} image (it begins {Convert.ToHexString(encoded[..Math.Min(8, encoded.Length)])}).");
        string format = mediaType switch { "image/webp" => "WebP", _ => mediaType["image/".Length..].ToUpperInvariant() };

        using var data = SKData.CreateCopy(encoded);
        using var codec = SKCodec.Create(data)
            ?? throw new ImageFileException(sourceName, $"is a corrupt or truncated {format} file (the decoder cannot read its header); expected a whole {format} image.");

        // The header's size, checked before a byte of pixels is allocated: a small file can claim gigapixels.
        long pixels = (long)codec.Info.Width * codec.Info.Height;
        if (pixels > maxPixels)
        {
            throw new ImageFileException(sourceName, $"is {codec.Info.Width} × {codec.Info.Height} = {pixels:N0} pixels; the limit is {maxPixels:N0} (ImagePreprocessorOptions.MaxDecodedPixels).");
        }

        if (codec.Info.Width < 1 || codec.Info.Height < 1)
        {
            throw new ImageFileException(sourceName, $"is {codec.Info.Width} × {codec.Info.Height} pixels; expected an image of at least one pixel.");
        }

        // Unpremultiplied and without a colour space: the stored colour of every pixel, whatever its alpha, with no
        // ICC conversion, which is what PIL gives (it ignores embedded profiles and drops alpha without compositing).
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var stored = new byte[info.BytesSize64];
        var result = codec.GetPixels(info, stored);
        if (result == SKCodecResult.IncompleteInput)
        {
            throw new ImageFileException(sourceName, $"is truncated: the {format} data ends before the image does; expected a whole {format} image.");
        }

        if (result != SKCodecResult.Success)
        {
            throw new ImageFileException(sourceName, $"is a corrupt or truncated {format} file (the decoder says {result}); expected a whole {format} image.");
        }

        if (mediaType == "image/gif" && GifTransparency.FirstFrameColour(encoded) is var (red, green, blue))
        {
            for (int p = 0; p < stored.Length; p += Channels)
            {
                if (stored[p + 3] == 0)
                {
                    (stored[p], stored[p + 1], stored[p + 2]) = (red, green, blue);
                }
            }
        }

        return Upright(stored, info.Width, info.Height, codec.EncodedOrigin);
    }

    /// <summary>The pixels turned as the EXIF orientation says (PIL's <c>ImageOps.exif_transpose</c>), before any resize.</summary>
    private static DecodedImage Upright(byte[] stored, int width, int height, SKEncodedOrigin origin)
    {
        if (origin is SKEncodedOrigin.TopLeft)
        {
            return new DecodedImage(width, height, stored);
        }

        bool swaps = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        int outWidth = swaps ? height : width, outHeight = swaps ? width : height;
        var turned = new byte[stored.Length];
        var source = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(stored.AsSpan());
        var target = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(turned.AsSpan());
        for (int y = 0; y < outHeight; y++)
        {
            for (int x = 0; x < outWidth; x++)
            {
                // The stored pixel that lands at (x, y) once the image is upright.
                (int sx, int sy) = origin switch
                {
                    SKEncodedOrigin.TopRight => (width - 1 - x, y),                  // 2: mirrored left to right
                    SKEncodedOrigin.BottomRight => (width - 1 - x, height - 1 - y),  // 3: upside down
                    SKEncodedOrigin.BottomLeft => (x, height - 1 - y),               // 4: mirrored top to bottom
                    SKEncodedOrigin.LeftTop => (y, x),                               // 5: transposed
                    SKEncodedOrigin.RightTop => (y, height - 1 - x),                 // 6: turn 90° clockwise
                    SKEncodedOrigin.RightBottom => (width - 1 - y, height - 1 - x),  // 7: transverse
                    SKEncodedOrigin.LeftBottom => (width - 1 - y, x),                // 8: turn 90° anticlockwise
                    _ => (x, y),
                };
                target[(y * outWidth) + x] = source[(sy * width) + sx];
            }
        }

        return new DecodedImage(outWidth, outHeight, turned);
    }
}
