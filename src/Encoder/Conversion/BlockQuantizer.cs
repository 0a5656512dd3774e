using System.Numerics;

namespace T5Gemma2.Rag.Encoder.Conversion;

/// <summary>
/// Asymmetric block quantization of a [rows, columns] weight into <see cref="QuantizedWeight"/>. 8 bits: each block's
/// min/max range rounded to nearest, whose error the embeddings do not notice (mean cosine 0.9998 on the 270m model).
/// 4 bits: each block gets the scale and zero point that minimise its squared error over a grid of clipped ranges:
/// min/max alone spends levels on the block's one or two extreme weights: 9 % more squared error on normal weights.
/// </summary>
internal static class BlockQuantizer
{
    // The 4-bit grid: the block's range shrunk in 8 steps to 70 %, each step with its nearest zero point and the two
    // beside it. On normal weights this comes within 0.4 % of a 120-candidate search's error (0.0060 of the energy,
    // against 0.0065 for min/max); wider or finer grids gain nothing measurable.
    private const int ShrinkSteps = 8;
    private const float SmallestShrink = 0.7f;

    public static QuantizedWeight Quantize(float[] weight, int rows, int columns, int bits, int blockSize)
    {
        if (bits is not (4 or 8) || blockSize < 16 || !BitOperations.IsPow2(blockSize))
        {
            throw new ArgumentOutOfRangeException(nameof(bits), $"bits {bits}, block size {blockSize}; expected 4 or 8 bits and a power-of-two block of at least 16 (MatMulNBits).");
        }

        if (weight.LongLength != (long)rows * columns)
        {
            throw new ArgumentException($"weight of {weight.LongLength} values; expected {rows} × {columns}.", nameof(weight));
        }

        int blocks = QuantizedWeight.BlocksPerRow(columns, blockSize);
        int blobBytes = QuantizedWeight.BlobBytes(bits, blockSize);
        int zeroPointBytes = QuantizedWeight.ZeroPointBytesPerRow(bits, blocks);
        var data = new byte[(long)rows * blocks * blobBytes];
        var scales = new float[(long)rows * blocks];
        var zeroPoints = new byte[(long)rows * zeroPointBytes];

        // Rows own disjoint bytes of all three arrays (zero points are packed within a row), so rows run in parallel.
        Parallel.For(0, rows, () => new float[blockSize], (row, _, block) =>
        {
            for (int b = 0; b < blocks; b++)
            {
                int start = b * blockSize, length = Math.Min(blockSize, columns - start);
                Array.Clear(block);
                Array.Copy(weight, (long)row * columns + start, block, 0, length);
                var grid = bits == 4 ? SearchGrid(block) : MinMaxGrid(block, levels: 255);
                scales[(long)row * blocks + b] = grid.Scale;
                Pack(zeroPoints, (long)row * zeroPointBytes, b, grid.ZeroPoint, bits);
                long blob = ((long)row * blocks + b) * blobBytes;
                for (int i = 0; i < blockSize; i++)
                {
                    Pack(data, blob, i, Code(block[i], grid.Inverse, grid.ZeroPoint, (1 << bits) - 1), bits);
                }
            }

            return block;
        }, _ => { });

        return new QuantizedWeight(data, scales, zeroPoints, bits, blockSize);
    }

    /// <summary>Round to nearest over the block's range widened to hold zero (the padding, and exact zeros, need it).</summary>
    private static Grid MinMaxGrid(ReadOnlySpan<float> block, int levels)
    {
        var (min, max) = Range(block);
        float scale = max > min ? (max - min) / levels : 1f;
        return new Grid(scale, 1f / scale, Math.Clamp((int)MathF.Round(-min / scale), 0, levels));
    }

    /// <summary>
    /// The 4-bit candidate with the least squared error. For codes q made with step s and zero point z, the best scale
    /// is the least-squares s* = Σw(q−z) / Σ(q−z)², whose error is Σw² − (Σw(q−z))² / Σ(q−z)²: one pass per step
    /// scores all three zero points.
    /// </summary>
    private static Grid SearchGrid(ReadOnlySpan<float> block)
    {
        const int Levels = 15;
        var (min, max) = Range(block);
        var best = MinMaxGrid(block, Levels);
        if (max <= min)
        {
            return best;
        }

        double bestGain = -1;
        Span<float> dots = stackalloc float[3], norms = stackalloc float[3];
        for (int step = 0; step < ShrinkSteps; step++)
        {
            float shrink = 1f - (1f - SmallestShrink) * step / (ShrinkSteps - 1);
            float inverse = Levels / ((max - min) * shrink);
            int nearest = Math.Clamp((int)MathF.Round(-min * inverse), 0, Levels);
            Fit(block, inverse, nearest, Levels, dots, norms);
            for (int j = 0; j < 3; j++)
            {
                int zeroPoint = nearest - 1 + j;
                float dot = dots[j], norm = norms[j];
                double gain = norm > 0 ? (double)dot * dot / norm : 0;
                if (zeroPoint is >= 0 and <= Levels && gain > bestGain)
                {
                    bestGain = gain;
                    best = new Grid(dot / norm, inverse, zeroPoint);
                }
            }
        }

        return best;
    }

    /// <summary>
    /// Σw(q−z) and Σ(q−z)² for the codes q of step 1/<paramref name="inverse"/> and the zero points z = nearest − 1,
    /// nearest, nearest + 1, in one pass: q − z = clamp(round(w / step), −z, levels − z). Blocks are powers of two of at
    /// least 16 values, a whole number of vectors at any width .NET uses (4, 8 or 16 floats).
    /// </summary>
    private static void Fit(ReadOnlySpan<float> block, float inverse, int nearest, int levels, Span<float> dots, Span<float> norms)
    {
        var scale = new Vector<float>(inverse);
        Vector<float> dot0 = default, dot1 = default, dot2 = default, norm0 = default, norm1 = default, norm2 = default;
        var low = new Vector<float>(-nearest);
        var high = new Vector<float>(levels - nearest);
        var one = Vector<float>.One;
        for (int i = 0; i < block.Length; i += Vector<float>.Count)
        {
            var w = new Vector<float>(block[i..]);
            var rounded = Vector.Round(w * scale);
            var centred0 = Vector.Min(Vector.Max(rounded, low + one), high + one);
            var centred1 = Vector.Min(Vector.Max(rounded, low), high);
            var centred2 = Vector.Min(Vector.Max(rounded, low - one), high - one);
            dot0 += w * centred0;
            norm0 += centred0 * centred0;
            dot1 += w * centred1;
            norm1 += centred1 * centred1;
            dot2 += w * centred2;
            norm2 += centred2 * centred2;
        }

        (dots[0], dots[1], dots[2]) = (Vector.Sum(dot0), Vector.Sum(dot1), Vector.Sum(dot2));
        (norms[0], norms[1], norms[2]) = (Vector.Sum(norm0), Vector.Sum(norm1), Vector.Sum(norm2));
    }

    private static int Code(float value, float inverse, int zeroPoint, int levels) =>
        Math.Clamp((int)MathF.Round(value * inverse) + zeroPoint, 0, levels);

    private static (float Min, float Max) Range(ReadOnlySpan<float> block)
    {
        float min = 0, max = 0; // zero stays representable
        foreach (float value in block)
        {
            min = Math.Min(min, value);
            max = Math.Max(max, value);
        }

        return (min, max);
    }

    /// <summary>Stores value number <paramref name="index"/> after <paramref name="offset"/>: a byte each for 8 bits, low nibble first for 4.</summary>
    private static void Pack(byte[] target, long offset, int index, int value, int bits)
    {
        if (bits == 8)
        {
            target[offset + index] = (byte)value;
            return;
        }

        long position = offset + index / 2;
        target[position] = index % 2 == 0 ? (byte)((target[position] & 0xF0) | value) : (byte)((target[position] & 0x0F) | (value << 4));
    }

    /// <summary>A block's stored scale, the step its codes were rounded with (as a reciprocal), and its zero point.</summary>
    private readonly record struct Grid(float Scale, float Inverse, int ZeroPoint);
}
