using SkiaSharp;
using T5Gemma2.Rag.Encoder.Images;
using T5Gemma2.Rag.Indexer.Documents;

namespace T5Gemma2.Rag.Indexer.Loading;

/// <summary>
/// Gathers the images a loader finds: each one's media type from its bytes, its size from its header (decoding
/// nothing else), tiny ones (icons, bullets) skipped and counted, and ones that are not a readable image reported
/// by where they were, so the rest of the document is still indexed.
/// </summary>
internal sealed class DocumentImageCollector
{
    /// <summary>Images smaller than this on either side are decoration, not content.</summary>
    public const int MinimumSide = 32;

    private readonly List<DocumentImage> _images = [];
    private readonly List<string> _problems = [];

    public IReadOnlyList<DocumentImage> Images => this._images;

    public IReadOnlyList<string> Problems => this._problems;

    public int Skipped { get; private set; }

    /// <summary>Adds one image; <paramref name="where"/> names it in a problem ("page 2, image 1").</summary>
    public void Add(byte[] data, string where, string nearbyText, string? sectionPath = null, int? page = null)
    {
        if (Check(data) is { } problem)
        {
            this._problems.Add($"{where}: {problem}");
            return;
        }

        if (Size(data) is not (int width, int height) || width < MinimumSide || height < MinimumSide)
        {
            this.Skipped++;
            return;
        }

        this._images.Add(new DocumentImage(new PassageImage(ImageFormats.Sniff(data)!, data), nearbyText.Trim(), sectionPath, page));
    }

    /// <summary>Why the bytes are no usable image, or null when they are one (of a format the vision path decodes, with a readable header).</summary>
    public static string? Check(ReadOnlySpan<byte> data) =>
        data.IsEmpty ? "the image is empty; expected PNG, JPEG, WebP, GIF or BMP bytes"
        : ImageFormats.Sniff(data) is null ? "not a PNG, JPEG, WebP, GIF or BMP image"
        : Size(data) is null ? "the image cannot be decoded; expected a whole PNG, JPEG, WebP, GIF or BMP image"
        : null;

    private static (int Width, int Height)? Size(ReadOnlySpan<byte> data)
    {
        using var bytes = SKData.CreateCopy(data);
        using var codec = SKCodec.Create(bytes);
        return codec is null ? null : (codec.Info.Width, codec.Info.Height);
    }
}
