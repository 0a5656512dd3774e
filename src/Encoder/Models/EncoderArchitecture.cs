namespace T5Gemma2.Rag.Encoder.Models;

/// <summary>
/// Which transformer family an encoder stack belongs to. Both share one graph builder: Gemma RMSNorm, q/k norms,
/// RoPE per layer type, grouped-query attention, GeGLU and sandwich norms. They differ in the few points listed here.
/// </summary>
public enum EncoderArchitecture
{
    /// <summary>T5Gemma 2's encoder: the end-of-image vector, image soft tokens, and the asymmetric window (W = 512 sees 255 back, 256 ahead).</summary>
    T5Gemma2,

    /// <summary>
    /// Gemma 3 run bidirectionally (<c>gemma3_text</c> with <c>use_bidirectional_attention</c>, EmbeddingGemma): no image
    /// input, no end-of-image vector, a symmetric window (W = 512 becomes 257 on load: 256 back, 256 ahead), and the
    /// layer norms stored as <c>input_layernorm</c> / <c>post_attention_layernorm</c>.
    /// </summary>
    Gemma3Bidirectional,
}
