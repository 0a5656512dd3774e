using System.Numerics.Tensors;
using Microsoft.ML.OnnxRuntime;
using T5Gemma2.Rag.Encoder.Checkpoints;
using T5Gemma2.Rag.Encoder.Conversion;
using T5Gemma2.Rag.Encoder.Models;
using T5Gemma2.Rag.Encoder.Onnx.Graph;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Conversion;

/// <summary>
/// Quantized linear layers run by ONNX Runtime's MatMulNBits, with several blocks per row, a partial last block and an
/// odd number of rows: against the exact fp32 product (a wrong nibble order or zero-point packing gives errors of the
/// order of the values themselves), against the product with weights dequantized here from the stored bytes (so the
/// layout is the one MatMulNBits reads), and the 4-bit scale search against plain min/max rounding.
/// </summary>
public sealed class BlockQuantizedLinearTests(SharedTinyT5Gemma2 tiny)
{
    private const int Rows = 37, Inputs = 100, Batch = 5; // 100 = 3 full blocks of 32 + 4

    [Theory]
    [InlineData(WeightFormat.Int8, 0.01)]
    [InlineData(WeightFormat.Int4, 0.12)]
    public void MatchesTheFp32ProductWithinQuantizationNoise(WeightFormat format, double maxRelativeError)
    {
        var random = new Random(3);
        float[] weight = [.. Enumerable.Range(0, Rows * Inputs).Select(_ => (float)(random.NextDouble() * 2 - 1))];
        float[] x = [.. Enumerable.Range(0, Batch * Inputs).Select(_ => (float)(random.NextDouble() * 2 - 1))];

        float[] y = RunLinear(BlockQuantizedLinear.For(format), "w", weight, x);

        double relative = RelativeError(Product(x, weight), y);
        Assert.True(relative < maxRelativeError, $"{format}: relative error {relative:F4}");
    }

    [Theory]
    [InlineData(WeightFormat.Int8, 8)]
    [InlineData(WeightFormat.Int4, 4)]
    public void MatMulNBitsComputesTheProductOfTheStoredWeights(WeightFormat format, int bits)
    {
        var random = new Random(5);
        float[] weight = Normal(random, Rows * Inputs, 0.1);
        float[] x = Normal(random, Batch * Inputs, 1);

        float[] y = RunLinear(BlockQuantizedLinear.For(format), "w", weight, x);
        var stored = BlockQuantizer.Quantize(weight, Rows, Inputs, bits, BlockQuantizedLinear.BlockSize);

        // Only fp32 accumulation separates the two; any misread code, scale or zero point is far above 1e-5.
        double relative = RelativeError(Product(x, Dequantize(stored, Rows, Inputs)), y);
        Assert.True(relative < 1e-5, $"{format}: relative difference {relative:E2} from the dequantized product");
    }

    [Fact]
    public void FourBitScaleSearchReconstructsTheCheckpointBetterThanMinMaxRounding()
    {
        using var checkpoint = SafeTensorsCheckpoint.Open(tiny.CheckpointDirectory);
        var config = T5Gemma2Config.Read(Path.Combine(tiny.CheckpointDirectory, "config.json"));
        double searched = 0, minMax = 0;
        foreach (var stack in new[] { T5Gemma2StackWeights.ForEncoder(checkpoint, config), T5Gemma2StackWeights.ForDecoder(checkpoint, config) })
        {
            foreach (var (suffix, shape) in T5Gemma2StackWeights.ExpectedTensors(stack.Config, withEmbedding: false).Where(t => t.Shape.Length == 2))
            {
                float[] weight = stack.Read(suffix);
                int rows = (int)shape[0], columns = (int)shape[1];
                var stored = BlockQuantizer.Quantize(weight, rows, columns, 4, BlockQuantizedLinear.BlockSize);
                double error = SquaredError(weight, Dequantize(stored, rows, columns));
                double reference = SquaredError(weight, MinMaxRoundTrip(weight, rows, columns, BlockQuantizedLinear.BlockSize));

                // Min/max with the least-squares scale is one of the candidates, so no weight may get worse.
                Assert.True(error <= reference * (1 + 1e-5), $"{suffix}: squared error {error:E3}, min/max rounding {reference:E3}");
                searched += error;
                minMax += reference;
            }
        }

        Assert.True(searched < 0.95 * minMax, $"squared error {searched:E3} against min/max rounding's {minMax:E3} ({searched / minMax:F3}×)");
    }

    [Fact]
    public void Int4EncoderKeepsValueOutputAndFirstLayerProjectionsInEightBits()
    {
        var random = new Random(7);
        float[] weight = Normal(random, 64 * 64, 0.1);
        long Bytes(LinearWeights linear, string name)
        {
            var graph = new OnnxGraph("bytes");
            linear.Apply(graph, graph.Input("x", OnnxDataType.Float, 1, 64), name, [64, 64], () => weight);
            return graph.InitializerBytes;
        }

        var encoder = BlockQuantizedLinear.ForEncoder(WeightFormat.Int4);
        long eightBit = Bytes(BlockQuantizedLinear.For(WeightFormat.Int8), "w"), fourBit = Bytes(BlockQuantizedLinear.For(WeightFormat.Int4), "w");

        Assert.Equal("int4", encoder.Name);
        Assert.True(eightBit > fourBit);
        Assert.Equal(eightBit, Bytes(encoder, "layers.3.self_attn.v_proj.weight"));
        Assert.Equal(eightBit, Bytes(encoder, "layers.3.self_attn.o_proj.weight"));
        Assert.Equal(eightBit, Bytes(encoder, "layers.0.mlp.up_proj.weight"));
        Assert.Equal(fourBit, Bytes(encoder, "layers.3.mlp.up_proj.weight"));
        Assert.Equal(fourBit, Bytes(encoder, "layers.10.self_attn.q_proj.weight"));
        Assert.Equal(fourBit, Bytes(BlockQuantizedLinear.For(WeightFormat.Int4), "layers.3.self_attn.v_proj.weight"));
    }

    [Fact]
    public void RejectsWidthsAndBlocksMatMulNBitsCannotRead()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => BlockQuantizer.Quantize(new float[64], 2, 32, 3, 32));
        Assert.Throws<ArgumentOutOfRangeException>(() => BlockQuantizer.Quantize(new float[64], 2, 32, 4, 24));
        Assert.Throws<ArgumentException>(() => BlockQuantizer.Quantize(new float[63], 2, 32, 4, 32));
    }

    /// <summary>y = x · Wᵀ through ONNX Runtime, W [Rows, Inputs] in the given form.</summary>
    private static float[] RunLinear(LinearWeights linear, string name, float[] weight, float[] x)
    {
        var graph = new OnnxGraph("linear");
        string input = graph.Input("x", OnnxDataType.Float, Batch, Inputs);
        graph.Output(linear.Apply(graph, input, name, [Rows, Inputs], () => weight), "y", OnnxDataType.Float, Batch, Rows);
        using var temp = new TempDirectory();
        string path = temp.Combine("linear.onnx");
        graph.Save(path, cancellationToken: TestContext.Current.CancellationToken);

        using var session = new InferenceSession(path);
        using var value = OrtValue.CreateTensorValueFromMemory(x, [Batch, Inputs]);
        using var options = new RunOptions();
        using var outputs = session.Run(options, ["x"], [value], ["y"]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    /// <summary>s · (q − z) read straight from the bytes, as the MatMulNBits contract lays them out.</summary>
    private static float[] Dequantize(QuantizedWeight stored, int rows, int columns)
    {
        int blocks = (columns + stored.BlockSize - 1) / stored.BlockSize;
        int blobBytes = stored.BlockSize * stored.Bits / 8;
        int zeroPointBytes = stored.Bits == 8 ? blocks : (blocks + 1) / 2;
        int Read(byte[] bytes, long start, int index) => stored.Bits == 8 ? bytes[start + index] : (bytes[start + index / 2] >> (index % 2 * 4)) & 0xF;
        var result = new float[rows * columns];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns; c++)
            {
                int block = c / stored.BlockSize;
                int code = Read(stored.Data, ((long)r * blocks + block) * blobBytes, c % stored.BlockSize);
                int zeroPoint = Read(stored.ZeroPoints, (long)r * zeroPointBytes, block);
                result[r * columns + c] = stored.Scales[r * blocks + block] * (code - zeroPoint);
            }
        }

        return result;
    }

    /// <summary>The scheme before the scale search: per block, the range [min(0, w), max(0, w)] in 15 steps, rounded to nearest.</summary>
    private static float[] MinMaxRoundTrip(float[] weight, int rows, int columns, int blockSize)
    {
        var result = new float[weight.Length];
        for (int r = 0; r < rows; r++)
        {
            for (int start = 0; start < columns; start += blockSize)
            {
                var block = weight.AsSpan(r * columns + start, Math.Min(blockSize, columns - start));
                float min = Math.Min(0, TensorPrimitives.Min(block)), max = Math.Max(0, TensorPrimitives.Max(block));
                float scale = max > min ? (max - min) / 15 : 1f;
                int zeroPoint = Math.Clamp((int)MathF.Round(-min / scale), 0, 15);
                for (int i = 0; i < block.Length; i++)
                {
                    result[r * columns + start + i] = scale * (Math.Clamp((int)MathF.Round(block[i] / scale) + zeroPoint, 0, 15) - zeroPoint);
                }
            }
        }

        return result;
    }

    private static double[] Product(float[] x, float[] weight)
    {
        var y = new double[Batch * Rows];
        for (int b = 0; b < Batch; b++)
        {
            for (int r = 0; r < Rows; r++)
            {
                y[b * Rows + r] = Enumerable.Range(0, Inputs).Sum(i => (double)x[b * Inputs + i] * weight[r * Inputs + i]);
            }
        }

        return y;
    }

    private static double RelativeError(double[] exact, float[] actual) =>
        Math.Sqrt(exact.Select((e, i) => Math.Pow(e - actual[i], 2)).Sum() / exact.Sum(e => e * e));

    private static double SquaredError(float[] a, float[] b) => a.Select((v, i) => Math.Pow(v - (double)b[i], 2)).Sum();

    private static float[] Normal(Random random, int count, double std) =>
        [.. Enumerable.Range(0, count).Select(_ => (float)(std * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble())))];
}
