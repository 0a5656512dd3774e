using Microsoft.ML.OnnxRuntime;
using T5Gemma2.Rag.Encoder.Conversion;
using T5Gemma2.Rag.Encoder.Onnx.Graph;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Conversion;

/// <summary>
/// Quantized linear layers run by ONNX Runtime's MatMulNBits against the exact fp32 product, with several blocks per
/// row, a partial last block and an odd number of rows: a wrong nibble order or zero-point packing gives errors of the
/// order of the values themselves, far above quantization noise.
/// </summary>
public sealed class BlockQuantizedLinearTests
{
    [Theory]
    [InlineData(WeightFormat.Int8, 0.01)]
    [InlineData(WeightFormat.Int4, 0.12)]
    public void MatchesTheFp32ProductWithinQuantizationNoise(WeightFormat format, double maxRelativeError)
    {
        const int Rows = 37, Inputs = 100, Batch = 5; // 100 = 3 full blocks of 32 + 4
        var random = new Random(3);
        float[] weight = [.. Enumerable.Range(0, Rows * Inputs).Select(_ => (float)(random.NextDouble() * 2 - 1))];
        float[] x = [.. Enumerable.Range(0, Batch * Inputs).Select(_ => (float)(random.NextDouble() * 2 - 1))];

        var graph = new OnnxGraph("linear");
        string input = graph.Input("x", OnnxDataType.Float, Batch, Inputs);
        string output = BlockQuantizedLinear.For(format).Apply(graph, input, "w", [Rows, Inputs], () => weight);
        graph.Output(output, "y", OnnxDataType.Float, Batch, Rows);
        using var temp = new TempDirectory();
        string path = temp.Combine("linear.onnx");
        graph.Save(path, cancellationToken: TestContext.Current.CancellationToken);

        using var session = new InferenceSession(path);
        using var value = OrtValue.CreateTensorValueFromMemory(x, [Batch, Inputs]);
        using var options = new RunOptions();
        using var outputs = session.Run(options, ["x"], [value], ["y"]);
        float[] y = outputs[0].GetTensorDataAsSpan<float>().ToArray();

        double error = 0, norm = 0;
        for (int b = 0; b < Batch; b++)
        {
            for (int r = 0; r < Rows; r++)
            {
                double exact = Enumerable.Range(0, Inputs).Sum(i => (double)x[b * Inputs + i] * weight[r * Inputs + i]);
                error += Math.Pow(exact - y[b * Rows + r], 2);
                norm += exact * exact;
            }
        }

        double relative = Math.Sqrt(error / norm);
        Assert.True(relative < maxRelativeError, $"{format}: relative error {relative:F4}");
    }
}
