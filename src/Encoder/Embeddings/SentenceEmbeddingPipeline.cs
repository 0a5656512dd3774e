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
/// modules are 4.7 M multiply-adds per vector against about 0.3 G per token in the encoder (`bench encoder` reports it).
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
    /// One input's final vector from its states [length, hidden] (right-padded: positions past <paramref name="tokens"/>
    /// are padding), with the first <paramref name="skipped"/> positions (the prompt) left out of pooling.
    /// </summary>
    public float[] Embed(ReadOnlySpan<float> states, int tokens, int skipped, int dimensions)
    {
        var vector = this.Pool(states, tokens, skipped);
        foreach (var dense in this._dense)
        {
            vector = Apply(dense, vector);
        }

        if (dimensions < vector.Length)
        {
            Array.Resize(ref vector, dimensions);
        }

        // One normalisation covers both: the Normalize module, and renormalising after the Matryoshka cut.
        if (this._normalize)
        {
            float norm = TensorPrimitives.Norm(vector);
            if (norm > 0)
            {
                TensorPrimitives.Divide(vector, Math.Max(norm, 1e-12f), vector);
            }
        }

        return vector;
    }

    private float[] Pool(ReadOnlySpan<float> states, int tokens, int skipped)
    {
        int hidden = this._hidden;
        var result = new float[this._pooling.OutputWidth(hidden)];
        int first = Math.Min(skipped, tokens);
        int kept = tokens - first;
        for (int m = 0; m < this._pooling.Modes.Count; m++)
        {
            var target = result.AsSpan(m * hidden, hidden);
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

        return result;
    }

    private static float[] Apply(DenseModuleWeights dense, float[] input)
    {
        int outputs = dense.Module.OutFeatures, inputs = dense.Module.InFeatures;
        var output = new float[outputs];
        var weight = dense.Weight.AsSpan();
        for (int o = 0; o < outputs; o++)
        {
            output[o] = TensorPrimitives.Dot(weight.Slice(o * inputs, inputs), input) + (dense.Bias?[o] ?? 0);
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
                for (int o = 0; o < outputs; o++)
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
