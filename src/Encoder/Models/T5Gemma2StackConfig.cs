namespace T5Gemma2.Rag.Encoder.Models;

/// <summary>
/// The dimensions of one T5Gemma 2 transformer stack (the encoder's text_config, or the decoder), as config.json gives
/// them. Nothing here is hard-coded per model size: 270m, 1b and 4b differ only in these numbers.
/// </summary>
public sealed record T5Gemma2StackConfig
{
    public required int VocabSize { get; init; }

    public required int HiddenSize { get; init; }

    public required int IntermediateSize { get; init; }

    public required int NumLayers { get; init; }

    public required int NumAttentionHeads { get; init; }

    public required int NumKeyValueHeads { get; init; }

    public required int HeadDim { get; init; }

    /// <summary>Attention scores are scaled by this to the power −½ (not head_dim).</summary>
    public required double QueryPreAttentionScalar { get; init; }

    public required double RmsNormEps { get; init; }

    public required int SlidingWindow { get; init; }

    public required IReadOnlyList<AttentionLayerType> LayerTypes { get; init; }

    public required RopeSettings SlidingRope { get; init; }

    public required RopeSettings FullRope { get; init; }

    public required int MaxPositionEmbeddings { get; init; }

    /// <summary>Attention-logit soft-capping (tanh(x/c)·c), or null when off (the released models).</summary>
    public double? AttentionLogitSoftcapping { get; init; }

    /// <summary>Final-logit soft-capping of the decoder head, or null when off (the released models).</summary>
    public double? FinalLogitSoftcapping { get; init; }

    public RopeSettings RopeFor(AttentionLayerType type) => type == AttentionLayerType.Full ? this.FullRope : this.SlidingRope;

    /// <summary>How many query heads share one key/value head.</summary>
    public int QueriesPerKeyValueHead => this.NumAttentionHeads / this.NumKeyValueHeads;

    /// <summary>The furthest key a query of a sliding layer sees to its left and to its right (encoder, bidirectional).</summary>
    /// <remarks>
    /// Set by the config reader for the architecture: T5Gemma 2's window is asymmetric, as Hugging Face's
    /// sliding_window_mask_function builds it (W = 512 sees itself, 255 to the left and 256 to the right); Gemma 3's
    /// bidirectional window is symmetric (W = 512 becomes W' = 257 on load, and a query sees keys with |i − j| &lt; W').
    /// </remarks>
    public required (int Left, int Right) BidirectionalWindowReach { get; init; }

    /// <summary>T5Gemma 2's rule for its encoder window: (W + 1) / 2 − 1 to the left, W / 2 to the right.</summary>
    public static (int Left, int Right) T5Gemma2WindowReach(int slidingWindow) => ((slidingWindow + 1) / 2 - 1, slidingWindow / 2);
}
