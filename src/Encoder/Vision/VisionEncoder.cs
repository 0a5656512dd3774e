using Microsoft.ML.OnnxRuntime;
using T5Gemma2.Rag.Encoder.Models;
using T5Gemma2.Rag.Encoder.Onnx;

namespace T5Gemma2.Rag.Encoder.Vision;

/// <summary>
/// Runs a converted model's vision graph (<see cref="VisionGraphNames.GraphFile"/>): pixel values in, the projector's
/// image features out, ready for the encoder graph's <c>image_features</c> input. Thread-safe: ONNX Runtime sessions
/// may run concurrently.
/// </summary>
public sealed class VisionEncoder : IDisposable
{
    private static readonly string[] s_inputNames = [VisionGraphNames.PixelValues];
    private static readonly string[] s_outputNames = [VisionGraphNames.ImageFeatures];
    private readonly InferenceSession _session;

    private VisionEncoder(InferenceSession session, VisionConfig config, string graphPath)
    {
        this._session = session;
        this.Config = config;
        this.GraphPath = graphPath;
    }

    public VisionConfig Config { get; }

    public string GraphPath { get; }

    /// <summary>Opens the vision graph of <paramref name="model"/>.</summary>
    /// <exception cref="ImagesNotSupportedException">The model is text-only.</exception>
    /// <exception cref="ModelFileException">The graph cannot be loaded.</exception>
    public static VisionEncoder Open(ModelDirectory model, OnnxSessionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var config = model.RequireVision();
        string graph = Path.Combine(model.Path, VisionGraphNames.GraphFile);
        return new VisionEncoder(OnnxSessionFactory.Create(graph, options ?? OnnxSessionOptions.Default), config, graph);
    }

    /// <summary>
    /// The image features of <paramref name="imageCount"/> images: imageCount × TokensPerImage × TextHiddenSize floats,
    /// image k's tokens from k · TokensPerImage on, as the encoder's soft-token positions take them in order.
    /// </summary>
    /// <param name="pixelValues">[imageCount, 3, ImageSize, ImageSize], as <c>PixelValues.Concatenate</c> gives them.</param>
    public float[] Encode(ReadOnlySpan<float> pixelValues, int imageCount, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(imageCount);
        int size = this.Config.ImageSize;
        long perImage = 3L * size * size;
        if (pixelValues.Length != imageCount * perImage)
        {
            throw new ArgumentException($"has {pixelValues.Length} values; expected {imageCount} image(s) of 3 × {size} × {size} = {imageCount * perImage} (the model's image size is {size} pixels).", nameof(pixelValues));
        }

        if (imageCount == 0)
        {
            return [];
        }

        cancellationToken.ThrowIfCancellationRequested();
        float[] copy = pixelValues.ToArray(); // ONNX Runtime pins managed memory; a span may live on the stack
        using var input = OrtValue.CreateTensorValueFromMemory(copy, [imageCount, 3, size, size]);
        using var runOptions = new RunOptions();
        using var registration = cancellationToken.Register(static state => ((RunOptions)state!).Terminate = true, runOptions);
        try
        {
            using var outputs = this._session.Run(runOptions, s_inputNames, [input], s_outputNames);
            return outputs[0].GetTensorDataAsSpan<float>().ToArray();
        }
        catch (OnnxRuntimeException) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(cancellationToken);
        }
    }

    public void Dispose() => this._session.Dispose();
}
