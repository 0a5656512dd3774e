using SkiaSharp;
using T5Gemma2.Rag.Encoder.Images;

namespace T5Gemma2.Rag.Encoder.Embeddings;

/// <summary>
/// Encoded image bytes to the vision tower's pixel values at the model's image size. A stand-in for Part B's
/// <c>ImagePreprocessor.Decode</c> (decoding is helper pixels' work): it is replaced by that call when it merges.
/// </summary>
internal static class ImageContentDecoder
{
    public static PixelValues Decode(ReadOnlySpan<byte> encoded, string sourceName, int imageSize)
    {
        if (encoded.IsEmpty)
        {
            throw new ImageFileException(sourceName, "is empty; expected an encoded image (PNG, JPEG, WebP, GIF or BMP).");
        }

        using var data = SKData.CreateCopy(encoded);
        using var codec = SKCodec.Create(data);
        if (codec is null)
        {
            throw new ImageFileException(sourceName, "cannot be decoded; expected a PNG, JPEG, WebP, GIF or BMP image.");
        }

        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var decoded = new SKBitmap(info);
        var result = codec.GetPixels(info, decoded.GetPixels());
        if (result != SKCodecResult.Success)
        {
            throw new ImageFileException(sourceName, $"is truncated or corrupt ({result}); expected a whole PNG, JPEG, WebP, GIF or BMP image.");
        }

        using var resized = decoded.Resize(new SKImageInfo(imageSize, imageSize, SKColorType.Rgba8888, SKAlphaType.Unpremul), new SKSamplingOptions(SKFilterMode.Linear))
            ?? throw new ImageFileException(sourceName, $"cannot be resized to {imageSize}×{imageSize}.");
        var rgba = resized.GetPixelSpan();
        int plane = imageSize * imageSize;
        var values = new float[3 * plane];
        for (int p = 0; p < plane; p++)
        {
            for (int c = 0; c < 3; c++)
            {
                values[c * plane + p] = (float)((rgba[4 * p + c] - 127.5) / 127.5);
            }
        }

        return new PixelValues(imageSize, imageSize, values);
    }
}
