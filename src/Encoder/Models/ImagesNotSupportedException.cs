namespace T5Gemma2.Rag.Encoder.Models;

/// <summary>An image was given to a model without a vision graph: converted from a text-only checkpoint, or not a T5Gemma 2 model at all.</summary>
public sealed class ImagesNotSupportedException : T5RagException
{
    public ImagesNotSupportedException(string modelDirectory)
        : base($"{modelDirectory}: the model is text-only (no {VisionGraphNames.GraphFile}); expected a T5Gemma 2 model converted from a checkpoint with a vision tower to take images.")
    {
        this.ModelDirectory = modelDirectory;
    }

    public string ModelDirectory { get; }

    public override FailureKind Kind => FailureKind.Usage;
}
