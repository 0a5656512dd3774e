using System.Text.Json;
using SkiaSharp;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Images;

/// <summary>
/// The committed image set (Assets/Images, made by tools/test-images) and the PIL reference beside it
/// (Assets/Images/reference, made by tools/hf-reference/make_pixel_goldens.py).
/// </summary>
internal static class TestImages
{
    public static string Folder => Path.Combine(TestAssets.RepositoryRoot, "tests", "T5Gemma2.Rag.Tests", "Assets", "Images");

    public static string PathOf(string name) => Path.Combine(Folder, name);

    public static IReadOnlyList<ReferenceImage> Index()
    {
        using var index = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "reference", "index.json")));
        return index.RootElement.GetProperty("images").EnumerateArray().Select(image => new ReferenceImage(
            image.GetProperty("file").GetString()!,
            image.GetProperty("mode").GetString()!,
            image.GetProperty("references").EnumerateObject().ToDictionary(size => int.Parse(size.Name, System.Globalization.CultureInfo.InvariantCulture), size => size.Value.GetProperty("file").GetString()!))).ToList();
    }

    /// <summary>An RGB(A) image's bytes as R, G, B per pixel, decoded by Skia alone (no code of ours).</summary>
    public static (int Width, int Height, byte[] Rgb) DecodeRgb(string path)
    {
        using var codec = SKCodec.Create(path) ?? throw new InvalidOperationException($"{path}: Skia cannot open it");
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var rgba = new byte[info.BytesSize];
        Assert.Equal(SKCodecResult.Success, codec.GetPixels(info, rgba));
        var rgb = new byte[info.Width * info.Height * 3];
        for (int i = 0; i < info.Width * info.Height; i++)
        {
            rgb[3 * i] = rgba[4 * i];
            rgb[(3 * i) + 1] = rgba[(4 * i) + 1];
            rgb[(3 * i) + 2] = rgba[(4 * i) + 2];
        }

        return (info.Width, info.Height, rgb);
    }

    /// <summary>One image of the set: its file, its PIL mode, and the reference file per size.</summary>
    internal sealed record ReferenceImage(string File, string Mode, IReadOnlyDictionary<int, string> References);
}
