using System.Numerics.Tensors;
using T5Gemma2.Rag.Encoder.Checkpoints;
using T5Gemma2.Rag.Encoder.Models;

namespace T5Gemma2.Rag.Encoder.Embeddings;

/// <summary>
/// What happens to the encoder's per-token states after the ONNX run, for every model layout alike, as
/// sentence-transformers runs its modules: Pooling (one or several modes, concatenated, optionally leaving out the
/// prompt's positions), each Dense module, Normalize, then the Matryoshka cut to fewer dimensions and renormalising.
/// </summary>
/// <remarks>
/// This runs in C# rather than in the graph because BERT exports are third-party graphs without these modules, and
/// because the prompt's length is a per-call value. Its cost is small beside the encoder: EmbeddingGemma's two Dense
/// modules are 4.7 M multiply-adds per vector against about 0.3 G per token in the encoder (`bench encoder` reports
/// the time spent here beside the ONNX run's).
/// </remarks>
internal sealed class SentenceEmbeddingPipeline
{
    private readonly PoolingModule _pooling;
    private readonly DenseModuleWeights[] _dense;
    private readonly bool _normalize;
    private readonly int _hidden;

    public SentenceEmbeddingPipeline(PoolingModule pooling, IReadOnlyList<DenseModuleWeights> dense, bool normalize, int hidden)
    {
        this._pooling = pooling;
        this._dense = [.. dense];
        this._normalize = normalize;
        this._hidden = hidden;
        this.OutputWidth = this._dense.Length > 0 ? this._dense[^1].Module.OutFeatures : pooling.OutputWidth(hidden);
    }

    /// <summary>The width of the vectors before any Matryoshka cut.</summary>
    public int OutputWidth { get; }

    /// <summary>Whether the prompt's positions are left out of pooling (sentence-transformers' include_prompt false).</summary>
    public bool ExcludesPrompt => !this._pooling.IncludePrompt;

    public static SentenceEmbeddingPipeline For(ModelDirectory model, PoolingMode? poolingOverride, bool? normalizeOverride, int hidden) =>
        new(poolingOverride is { } mode ? PoolingModule.Of(mode) : model.PoolingModule, [.. model.Dense.Select(DenseModuleWeights.Load)], normalizeOverride ?? model.Normalize, hidden);

    /// <summary>
    /// The final vectors of one batch from its states [rows, length, hidden] (right-padded: positions of row r past
    /// <paramref name="tokens"/>[r] are padding), with the first <paramref name="skipped"/> positions (the prompt) left
    /// out of pooling, cut to <paramref name="dimensions"/>.
    /// </summary>
    /// <remarks>
    /// Each Dense module is one matrix product over the batch, so its weight is read once per batch, not once per vector.
    /// A cut below the full width is always renormalised (sentence-transformers' <c>encode(truncate_dim=N,
    /// normalize_embeddings=True)</c>), with or without a Normalize module; at full width only the Normalize module normalises.
    /// </remarks>
    public float[][] Embed(ReadOnlySpan<float> states, int length, ReadOnlySpan<int> tokens, int skipped, int dimensions)
    {
        int rows = tokens.Length;
        int width = this._pooling.OutputWidth(this._hidden);
        var pooled = new float[rows * width];
        for (int row = 0; row < rows; row++)
        {
            this.Pool(states.Slice(row * length * this._hidden, length * this._hidden), tokens[row], skipped, pooled.AsSpan(row * width, width));
        }

        foreach (var dense in this._dense)
        {
            pooled = Apply(dense, pooled, rows);
            width = dense.Module.OutFeatures;
        }

        var vectors = new float[rows][];
        bool normalize = this._normalize || dimensions < width;
        for (int row = 0; row < rows; row++)
        {
            // One normalisation covers both: the Normalize module, and renormalising after the Matryoshka cut.
            var vector = pooled.AsSpan(row * width, Math.Min(dimensions, width)).ToArray();
            if (normalize)
            {
                // x / max(‖x‖, 1e-12), as torch's normalize: a zero vector stays zero.
                TensorPrimitives.Divide(vector, Math.Max(TensorPrimitives.Norm(vector), 1e-12f), vector);
            }

            vectors[row] = vector;
        }

        return vectors;
    }

    private void Pool(ReadOnlySpan<float> states, int tokens, int skipped, Span<float> result)
    {
        int hidden = this._hidden;
        int first = Math.Min(skipped, tokens);
        int kept = tokens - first;
        for (int m = 0; m < this._pooling.Modes.Count; m++)
        {
            var target = result.Slice(m * hidden, hidden);
            if (kept == 0)
            {
                continue; // nothing to pool (an empty text with no special tokens, or all prompt): the zero vector, as sentence-transformers gives
            }

            switch (this._pooling.Modes[m])
            {
                case PoolingMode.Cls:
                    states.Slice(first * hidden, hidden).CopyTo(target);
                    break;
                case PoolingMode.LastToken:
                    states.Slice((tokens - 1) * hidden, hidden).CopyTo(target);
                    break;
                case PoolingMode.Max:
                    states.Slice(first * hidden, hidden).CopyTo(target);
                    for (int t = first + 1; t < tokens; t++)
                    {
                        TensorPrimitives.Max(target, states.Slice(t * hidden, hidden), target);
                    }

                    break;
                case PoolingMode.WeightedMean:
                    // Weights are 1-based positions in the right-padded row, as sentence-transformers computes them.
                    float weights = 0;
                    for (int t = first; t < tokens; t++)
                    {
                        TensorPrimitives.MultiplyAdd(states.Slice(t * hidden, hidden), t + 1, target, target);
                        weights += t + 1;
                    }

                    TensorPrimitives.Divide(target, weights, target);
                    break;
                default:
                    for (int t = first; t < tokens; t++)
                    {
                        TensorPrimitives.Add(target, states.Slice(t * hidden, hidden), target);
                    }

                    TensorPrimitives.Divide(target, this._pooling.Modes[m] == PoolingMode.MeanSqrtLength ? MathF.Sqrt(kept) : kept, target);
                    break;
            }
        }

    }

    // y = act(x · Wᵀ + b) for all rows at once: each weight row is dotted with every row of the batch while it is in cache.
    private static float[] Apply(DenseModuleWeights dense, float[] input, int rows)
    {
        int outputs = dense.Module.OutFeatures, inputs = dense.Module.InFeatures;
        var output = new float[rows * outputs];
        var weight = dense.Weight.AsSpan();
        var x = input.AsSpan();
        for (int o = 0; o < outputs; o++)
        {
            var w = weight.Slice(o * inputs, inputs);
            float bias = dense.Bias?[o] ?? 0;
            for (int row = 0; row < rows; row++)
            {
                output[row * outputs + o] = TensorPrimitives.Dot(w, x.Slice(row * inputs, inputs)) + bias;
            }
        }

        switch (dense.Module.Activation)
        {
            case DenseActivation.Tanh:
                TensorPrimitives.Tanh(output, output);
                break;
            case DenseActivation.Relu:
                TensorPrimitives.Max(output, 0f, output);
                break;
            case DenseActivation.Sigmoid:
                TensorPrimitives.Sigmoid(output, output);
                break;
            case DenseActivation.Gelu:
                for (int o = 0; o < output.Length; o++)
                {
                    output[o] = (float)(0.5 * output[o] * (1 + Erf(output[o] / Math.Sqrt(2))));
                }

                break;
        }

        return output;
    }

    // Numerical Recipes' erfc fit: relative error under 1.2e-7, float precision, so GELU matches torch's exact (erf) form.
    private static double Erf(double x)
    {
        double t = 1 / (1 + 0.5 * Math.Abs(x));
        double y = 1 - t * Math.Exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
            + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? y : -y;
    }
}
