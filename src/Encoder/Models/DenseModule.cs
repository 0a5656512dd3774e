namespace T5Gemma2.Rag.Encoder.Models;

/// <summary>
/// A sentence-transformers Dense module as its folder's config.json describes it: <c>y = activation(x·Wᵀ + b)</c> on
/// the pooled vector. The weights stay in the folder (<c>model.safetensors</c>, <c>linear.weight</c> [out, in] and
/// <c>linear.bias</c> [out]) until an embedding generator loads them.
/// </summary>
/// <param name="Folder">The module's folder (full path).</param>
public sealed record DenseModule(string Folder, int InFeatures, int OutFeatures, bool Bias, DenseActivation Activation)
{
    /// <summary>The weights file every Dense folder must have; sentence-transformers reads it before <c>pytorch_model.bin</c>.</summary>
    public const string WeightsFileName = "model.safetensors";

    public string WeightsPath => Path.Combine(this.Folder, WeightsFileName);
}
