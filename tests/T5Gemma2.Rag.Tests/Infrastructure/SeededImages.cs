using SkiaSharp;

namespace T5Gemma2.Rag.Tests.Infrastructure;

/// <summary>Small seeded images made with SkiaSharp: their RGB bytes, and the same encoded as PNG or JPEG.</summary>
internal static class SeededImages
{
    /// <summary>Seeded opaque RGB bytes, row-major, 3 per pixel.</summary>
    public static byte[] Rgb(int width, int height, int seed)
    {
        var random = new Random(seed);
        var rgb = new byte[3 * width * height];
        random.NextBytes(rgb);
        return rgb;
    }

    public static byte[] Png(int width, int height, int seed) => Encode(Rgb(width, height, seed), width, height, SKEncodedImageFormat.Png, 100);

    public static byte[] Jpeg(int width, int height, int seed) => Encode(Rgb(width, height, seed), width, height, SKEncodedImageFormat.Jpeg, 90);

    /// <summary>The tower's pixel values of <paramref name="rgb"/> (CHW, (u8 − 127.5) / 127.5), computed here in the test.</summary>
    public static float[] PixelValues(byte[] rgb, int width, int height)
    {
        int plane = width * height;
        var values = new float[3 * plane];
        for (int p = 0; p < plane; p++)
        {
            for (int c = 0; c < 3; c++)
            {
                values[c * plane + p] = (float)((rgb[3 * p + c] - 127.5) / 127.5);
            }
        }

        return values;
    }

    private static byte[] Encode(byte[] rgb, int width, int height, SKEncodedImageFormat format, int quality)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        var pixels = bitmap.GetPixelSpan();
        for (int p = 0; p < width * height; p++)
        {
            pixels[4 * p] = rgb[3 * p];
            pixels[4 * p + 1] = rgb[3 * p + 1];
            pixels[4 * p + 2] = rgb[3 * p + 2];
            pixels[4 * p + 3] = 255;
        }

        using var data = bitmap.Encode(format, quality);
        return data.ToArray();
    }
}
