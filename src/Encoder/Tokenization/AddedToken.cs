namespace T5Gemma2.Rag.Encoder.Tokenization;

/// <summary>A token of tokenizer.json's <c>added_tokens</c>: matched on the raw text before any normalization.</summary>
/// <param name="Id">The token id.</param>
/// <param name="Content">The literal text that maps to the token.</param>
/// <param name="IsSpecial">Whether Hugging Face counts it as a special token (skipped when decoding with skipSpecialTokens).</param>
public readonly record struct AddedToken(int Id, string Content, bool IsSpecial);
