namespace T5Gemma2.Rag.Encoder.Images;

/// <summary>
/// One image as the vision tower takes it: RGB planes (channel-major, then rows), each value (u8 − 127.5) / 127.5,
/// the Hugging Face Gemma 3 processor's rescale by 1/255 and normalisation with mean = std = 0.5 in one step.
/// </summary>
public sealed class PixelValues
{
    /// <param name="values">3 × <paramref name="height"/> × <paramref name="width"/> floats, CHW.</param>
    public PixelValues(int height, int width, float[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        if (values.Length != 3L * height * width)
        {
            throw new ArgumentException($"has {values.Length} values; expected 3 × {height} × {width} = {3L * height * width}.", nameof(values));
        }

        this.Height = height;
        this.Width = width;
        this.Values = values;
    }

    public int Height { get; }

    public int Width { get; }

    /// <summary>3 × Height × Width floats: the R plane, then G, then B.</summary>
    public float[] Values { get; }

    /// <summary>A batch as the vision graph's <c>pixel_values</c> takes it, [n, 3, H, W]; every image must be the same size.</summary>
    public static float[] Concatenate(IReadOnlyList<PixelValues> images)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Count == 0)
        {
            return [];
        }

        int height = images[0].Height, width = images[0].Width;
        var batch = new float[(long)images.Count * images[0].Values.Length];
        for (int i = 0; i < images.Count; i++)
        {
            if (images[i].Height != height || images[i].Width != width)
            {
                throw new ArgumentException($"image {i} is {images[i].Width}×{images[i].Height}; expected every image of a batch to be {width}×{height}.", nameof(images));
            }

            images[i].Values.CopyTo(batch, (long)i * images[i].Values.Length);
        }

        return batch;
    }
}
