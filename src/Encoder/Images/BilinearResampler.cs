using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace T5Gemma2.Rag.Encoder.Images;

/// <summary>
/// Resizes 8-bit pixels as Pillow's <c>Image.resize(size, BILINEAR)</c> does, which is what the Hugging Face Gemma 3
/// processor's PIL backend runs: a triangle filter whose support widens with the downscale factor (so a downscale
/// averages every source pixel, not four), weights normalised per output pixel and held in fixed point, a horizontal
/// pass rounded to 8 bits, then a vertical pass. The arithmetic is Pillow's so the bytes are Pillow's.
/// </summary>
internal static class BilinearResampler
{
    /// <summary>Pillow's fixed-point precision for 8-bit images: 32 bits less 8 for the value and 2 for the sign and headroom.</summary>
    private const int PrecisionBits = 32 - 8 - 2;

    private const int Half = 1 << (PrecisionBits - 1);

    /// <summary>Bytes a pixel, in and out: R, G, B and one ignored, the layout Skia decodes into.</summary>
    public const int Channels = DecodedImage.Channels;

    /// <summary>
    /// Resizes <paramref name="source"/> (rows of <paramref name="width"/> pixels of 4 bytes, R, G, B and a fourth
    /// that is carried along and ignored) to <paramref name="outWidth"/> × <paramref name="outHeight"/> pixels of 4 bytes.
    /// </summary>
    public static byte[] Resize(ReadOnlySpan<byte> source, int width, int height, int outWidth, int outHeight)
    {
        var horizontal = Taps.Create(width, outWidth);
        var vertical = Taps.Create(height, outHeight);

        // Only the source rows the vertical pass reads need the horizontal pass (all of them unless upscaling a strip).
        int firstRow = vertical.First[0];
        int lastRow = vertical.First[outHeight - 1] + vertical.Count[outHeight - 1];
        int rowBytes = outWidth * Channels;
        var between = new byte[(lastRow - firstRow) * rowBytes];
        for (int y = firstRow; y < lastRow; y++)
        {
            ResizeRow(source.Slice(y * width * Channels, width * Channels), horizontal, between.AsSpan((y - firstRow) * rowBytes, rowBytes));
        }

        var result = new byte[outHeight * rowBytes];
        var sums = new int[rowBytes];
        for (int yy = 0; yy < outHeight; yy++)
        {
            sums.AsSpan().Fill(Half);
            int first = vertical.First[yy] - firstRow;
            var weights = vertical.WeightsOf(yy);
            for (int t = 0; t < weights.Length; t++)
            {
                Accumulate(between.AsSpan((first + t) * rowBytes, rowBytes), weights[t], sums);
            }

            var output = result.AsSpan(yy * rowBytes, rowBytes);
            for (int i = 0; i < output.Length; i++)
            {
                output[i] = Clip(sums[i]);
            }
        }

        return result;
    }

    /// <summary>One horizontal pass over a row: the four channels of a pixel as one vector, one multiply-add per tap.</summary>
    private static void ResizeRow(ReadOnlySpan<byte> row, Taps taps, Span<byte> output)
    {
        var half = Vector128.Create(Half);
        var zero = Vector128<int>.Zero;
        var top = Vector128.Create(255);
        for (int xx = 0; xx < taps.First.Length; xx++)
        {
            var weights = taps.WeightsOf(xx);
            var pixels = row.Slice(taps.First[xx] * Channels, weights.Length * Channels);
            var sum = half;
            for (int t = 0; t < weights.Length; t++)
            {
                var bytes = Vector128.CreateScalarUnsafe(MemoryMarshal.Read<uint>(pixels[(t * Channels)..])).AsByte();
                var channels = Vector128.WidenLower(Vector128.WidenLower(bytes)).AsInt32();
                sum += channels * Vector128.Create(weights[t]);
            }

            var clipped = Vector128.Min(Vector128.Max(Vector128.ShiftRightArithmetic(sum, PrecisionBits), zero), top);
            var narrowed = Vector128.Narrow(Vector128.Narrow(clipped, clipped), Vector128.Narrow(clipped, clipped));
            MemoryMarshal.Write(output[(xx * Channels)..], narrowed.AsUInt32().ToScalar());
        }
    }

    /// <summary>sums[i] += row[i] × weight, sixteen bytes at a time.</summary>
    private static void Accumulate(ReadOnlySpan<byte> row, int weight, Span<int> sums)
    {
        var w = Vector128.Create(weight);
        int i = 0;
        for (; i <= row.Length - 16; i += 16)
        {
            var bytes = Vector128.Create(row.Slice(i, 16));
            var low = Vector128.WidenLower(bytes);
            var high = Vector128.WidenUpper(bytes);
            var target = sums.Slice(i, 16);
            (Vector128.Create<int>(target) + (Vector128.WidenLower(low).AsInt32() * w)).CopyTo(target);
            (Vector128.Create<int>(target[4..]) + (Vector128.WidenUpper(low).AsInt32() * w)).CopyTo(target[4..]);
            (Vector128.Create<int>(target[8..]) + (Vector128.WidenLower(high).AsInt32() * w)).CopyTo(target[8..]);
            (Vector128.Create<int>(target[12..]) + (Vector128.WidenUpper(high).AsInt32() * w)).CopyTo(target[12..]);
        }

        for (; i < row.Length; i++)
        {
            sums[i] += row[i] * weight;
        }
    }

    private static byte Clip(int sum) => (byte)Math.Clamp(sum >> PrecisionBits, 0, 255);

    /// <summary>For each output position: the first source pixel it reads, how many, and their fixed-point weights.</summary>
    private sealed class Taps
    {
        private readonly int[] _weights;
        private readonly int _stride;

        private Taps(int[] first, int[] count, int[] weights, int stride)
        {
            this.First = first;
            this.Count = count;
            this._weights = weights;
            this._stride = stride;
        }

        public int[] First { get; }

        public int[] Count { get; }

        public ReadOnlySpan<int> WeightsOf(int position) => this._weights.AsSpan(position * this._stride, this.Count[position]);

        /// <summary>The taps of a resize from <paramref name="inSize"/> to <paramref name="outSize"/> pixels, in Pillow's double arithmetic.</summary>
        public static Taps Create(int inSize, int outSize)
        {
            double scale = (double)inSize / outSize;
            double filterScale = Math.Max(scale, 1.0);
            double support = 1.0 * filterScale; // the triangle's support is 1, widened on a downscale
            int stride = ((int)Math.Ceiling(support) * 2) + 1;
            var first = new int[outSize];
            var count = new int[outSize];
            var weights = new int[outSize * stride];
            var exact = new double[stride];
            double inverse = 1.0 / filterScale; // Pillow multiplies by the inverse; dividing can differ in the last bit
            for (int xx = 0; xx < outSize; xx++)
            {
                double center = (xx + 0.5) * scale;
                // Pillow truncates toward zero here (a C cast), then clamps to the image.
                int xmin = Math.Max((int)(center - support + 0.5), 0);
                int xmax = Math.Min((int)(center + support + 0.5), inSize) - xmin;
                double total = 0;
                for (int x = 0; x < xmax; x++)
                {
                    double w = Triangle((x + xmin - center + 0.5) * inverse);
                    exact[x] = w;
                    total += w;
                }

                for (int x = 0; x < xmax; x++)
                {
                    double w = total != 0 ? exact[x] / total : exact[x];
                    weights[(xx * stride) + x] = (int)(w < 0 ? -0.5 + (w * (1 << PrecisionBits)) : 0.5 + (w * (1 << PrecisionBits)));
                }

                first[xx] = xmin;
                count[xx] = xmax;
            }

            return new Taps(first, count, weights, stride);
        }

        private static double Triangle(double x)
        {
            x = Math.Abs(x);
            return x < 1.0 ? 1.0 - x : 0.0;
        }
    }
}
