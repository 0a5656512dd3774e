using System.Text;

namespace T5Gemma2.Rag.Encoder.Tokenization;

/// <summary>
/// Turns ids back into text the way Hugging Face's decoder sequence does (Replace U+2581 → space, ByteFallback, Fuse):
/// a run of byte tokens is decoded as strict UTF-8, and if it is not valid UTF-8 every byte of the run becomes U+FFFD.
/// </summary>
internal struct GemmaByteFallbackDecoder
{
    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly GemmaTokenizer _tokenizer;
    private byte[]? _pending;
    private int _pendingCount;

    public GemmaByteFallbackDecoder(GemmaTokenizer tokenizer)
    {
        this._tokenizer = tokenizer;
    }

    public readonly bool IsByteToken(int id) => this._tokenizer.ByteValue(id) >= 0;

/// <summary>Whether byte tokens are waiting for the rest of their character.</summary>
public readonly bool HasPendingBytes => this._pendingCount > 0;

    public void Append(int id, StringBuilder output)
    {
        if (this.IsByteToken(id))
        {
            this._pending ??= new byte[16];
            if (this._pendingCount == this._pending.Length)
            {
                Array.Resize(ref this._pending, this._pending.Length * 2);
            }

            this._pending[this._pendingCount++] = (byte)this._tokenizer.ByteValue(id);
            return;
        }

        this.Flush(output);
        string? piece = this._tokenizer.IdToToken(id);
        if (piece is null)
        {
            // Hugging Face drops ids it has no token for; so do we.
            return;
        }

        int start = output.Length;
        output.Append(piece);
        output.Replace('\u2581', ' ', start, piece.Length);
    }

    public void Flush(StringBuilder output)
    {
        if (this._pendingCount == 0)
        {
            return;
        }

        try
        {
            output.Append(s_strictUtf8.GetString(this._pending!, 0, this._pendingCount));
        }
        catch (DecoderFallbackException)
        {
            output.Append('\uFFFD', this._pendingCount);
        }

        this._pendingCount = 0;
    }
}
