namespace T5Gemma2.Rag.Encoder.Models;

/// <summary>The vision graph's file and tensor names: the contract between the converter that writes it and the vision encoder that runs it (Vision/VisionEncoder).</summary>
public static class VisionGraphNames
{
    /// <summary>The SigLIP tower and projector, beside the encoder graph in a converted model directory.</summary>
    public const string GraphFile = "onnx/vision_encoder.onnx";

    /// <summary>The manifest's <c>graphs</c> key for <see cref="GraphFile"/>.</summary>
    public const string ManifestKey = "vision_encoder";

    /// <summary>float32 [images, 3, image size, image size]: RGB, (u8 − 127.5) / 127.5.</summary>
    public const string PixelValues = "pixel_values";

    /// <summary>float32 [images, tokens per image, text hidden]: what the encoder graph's <c>image_features</c> takes, rows flattened.</summary>
    public const string ImageFeatures = "image_features";
}
