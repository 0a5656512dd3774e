using System.Text;
using T5Gemma2.Rag.Encoder.Tokenization;

namespace T5Gemma2.Rag.Encoder.Generation;

/// <summary>
/// Turns generated ids into text deltas as they come. A run of byte-fallback tokens is held until it ends, because
/// it decodes all or nothing (a multi-byte character, or U+FFFD for every byte if invalid): the deltas therefore add
/// up to exactly <see cref="GemmaTokenizer.Decode(IEnumerable{int}, bool)"/> of all ids, and no character is split.
/// </summary>
internal sealed class IncrementalDetokenizer
{
    private readonly GemmaTokenizer _tokenizer;
    private readonly StringBuilder _text = new();
    private GemmaByteFallbackDecoder _decoder;
    private int _emitted;

    public IncrementalDetokenizer(GemmaTokenizer tokenizer)
    {
        this._tokenizer = tokenizer;
        this._decoder = new GemmaByteFallbackDecoder(tokenizer);
    }

    /// <summary>All text decoded so far (pending bytes excluded).</summary>
    public string Text => this._text.ToString();

    /// <summary>Adds a token; returns the text that became final (often the token's own text, empty inside a byte run).</summary>
    public string Push(int id)
    {
        if (!this._tokenizer.IsSpecialToken(id))
        {
            this._decoder.Append(id, this._text);
        }

        return this.TakeNew();
    }

    /// <summary>Ends the stream: pending bytes are decoded (or become U+FFFD) and returned.</summary>
    public string Flush()
    {
        this._decoder.Flush(this._text);
        return this.TakeNew();
    }

    private string TakeNew()
    {
        string delta = this._text.ToString(this._emitted, this._text.Length - this._emitted);
        this._emitted = this._text.Length;
        return delta;
    }
}
