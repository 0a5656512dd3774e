using T5Gemma2.Rag.Encoder.Images;

namespace T5Gemma2.Rag.Encoder.Generation;

/// <summary>
/// What the encoder reads for one request: input ids (bos included) and the images whose features fill the ids'
/// image soft tokens, the k-th image the k-th block (an <c>ImagePromptBuilder</c> makes both agree).
/// </summary>
public sealed class EncoderInput
{
    private EncoderInput(int[] ids, IReadOnlyList<PixelValues> images)
    {
        this.Ids = ids;
        this.Images = images;
    }

    /// <summary>Encoder input ids as given, bos included.</summary>
    public int[] Ids { get; }

    /// <summary>The images, in the order of their blocks in <see cref="Ids"/>; empty for text.</summary>
    public IReadOnlyList<PixelValues> Images { get; }

    /// <summary>Text only: ids already tokenized (a packed context).</summary>
    public static EncoderInput FromIds(int[] ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        return new EncoderInput(ids, []);
    }

    /// <summary>Ids with image blocks and their images; the generator checks that the blocks and images agree.</summary>
    public static EncoderInput WithImages(int[] ids, IReadOnlyList<PixelValues> images)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(images);
        return new EncoderInput(ids, [.. images]);
    }
}
