using T5Gemma2.Rag.Encoder.Models;

namespace T5Gemma2.Rag.Encoder.Checkpoints;

/// <summary>
/// A sentence-transformers Dense module's weights as fp32, read from its <c>model.safetensors</c> (<c>linear.weight</c>
/// [out, in], and <c>linear.bias</c> [out] when the config says bias), with every name and shape checked against the config.
/// </summary>
public sealed class DenseModuleWeights
{
    private DenseModuleWeights(DenseModule module, float[] weight, float[]? bias)
    {
        this.Module = module;
        this.Weight = weight;
        this.Bias = bias;
    }

    public DenseModule Module { get; }

    /// <summary>Row-major [out, in].</summary>
    public float[] Weight { get; }

    /// <summary>[out], or null when the module has no bias.</summary>
    public float[]? Bias { get; }

    /// <exception cref="ModelFileException">The weights file is not valid, or a tensor is missing, unexpected or of another shape.</exception>
    public static DenseModuleWeights Load(DenseModule module)
    {
        ArgumentNullException.ThrowIfNull(module);
        using var file = SafeTensorsFile.Open(module.WeightsPath);
        var weight = Require(file, "linear.weight", [module.OutFeatures, module.InFeatures]);
        float[]? bias = null;
        bool hasBias = file.Tensors.ContainsKey("linear.bias");
        if (hasBias != module.Bias)
        {
            throw new ModelFileException(module.WeightsPath, module.Bias
                ? "has no tensor 'linear.bias'; expected one, as config.json says bias is true."
                : "has a tensor 'linear.bias'; expected none, as config.json says bias is false.");
        }

        if (hasBias)
        {
            bias = Read(file, Require(file, "linear.bias", [module.OutFeatures]));
        }

        return new DenseModuleWeights(module, Read(file, weight), bias);
    }

    private static SafeTensorInfo Require(SafeTensorsFile file, string name, long[] shape)
    {
        if (!file.Tensors.TryGetValue(name, out var info))
        {
            throw new ModelFileException(file.FilePath, $"has no tensor '{name}'; expected the Dense module's weights [{string.Join(", ", shape)}] (it holds {string.Join(", ", file.Tensors.Keys.Select(k => $"'{k}'"))}).");
        }

        if (!info.Shape.SequenceEqual(shape))
        {
            throw new ModelFileException(file.FilePath, $"tensor '{name}' has shape {info.ShapeText}; config.json's in_features and out_features imply [{string.Join(", ", shape)}].");
        }

        if (info.DataType is not ("F32" or "BF16" or "F16"))
        {
            throw new ModelFileException(file.FilePath, $"tensor '{name}' is {info.DataType}; expected F32, BF16 or F16.");
        }

        return info;
    }

    private static float[] Read(SafeTensorsFile file, SafeTensorInfo info)
    {
        var values = new float[info.ElementCount];
        file.ReadFloat32(info, values);
        return values;
    }
}
