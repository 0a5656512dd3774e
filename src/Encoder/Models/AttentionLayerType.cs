namespace T5Gemma2.Rag.Encoder.Models;

/// <summary>What a layer's attention sees: a sliding window of neighbours or the whole sequence.</summary>
public enum AttentionLayerType
{
    Sliding,
    Full,
}
