namespace T5Gemma2.Rag.Indexer.Loading;

/// <summary>Text decoded from a file's bytes, with the number of invalid sequences that became U+FFFD.</summary>
/// <param name="Text">The text, with '\n' line ends.</param>
/// <param name="ReplacedCharacters">Invalid byte sequences (or unpaired UTF-16 surrogates) replaced by U+FFFD.</param>
public readonly record struct DecodedText(string Text, int ReplacedCharacters);
