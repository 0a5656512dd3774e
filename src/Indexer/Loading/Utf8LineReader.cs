namespace T5Gemma2.Rag.Indexer.Loading;

/// <summary>
/// Reads '\n'-separated lines of bytes from a stream without decoding them, so JSON lines go to the JSON parser as
/// UTF-8 directly and a file of any size streams through a buffer that grows only to the longest line. Each byte is
/// searched once, so a line of many megabytes costs linear time. A line longer than the limit is skipped (reported
/// as <see cref="TooLong"/>) without being held in memory.
/// </summary>
internal sealed class Utf8LineReader(Stream stream, int maxLineBytes)
{
    private readonly Stream _stream = stream;
    private readonly int _maxLineBytes = maxLineBytes;
    private byte[] _buffer = new byte[1 << 16];
    private int _start;
    private int _end;
    private int _scanned;
    private bool _eof;

    /// <summary>1-based number of the line last returned.</summary>
    public long LineNumber { get; private set; }

    /// <summary>Whether the line last returned was longer than the limit (its bytes are then empty).</summary>
    public bool TooLong { get; private set; }

    /// <summary>The first bytes of the stream (up to <paramref name="count"/>), read ahead without consuming them.</summary>
    public async ValueTask<ReadOnlyMemory<byte>> PeekAsync(int count, CancellationToken cancellationToken)
    {
        while (this._end - this._start < count && !this._eof)
        {
            await this.FillAsync(cancellationToken).ConfigureAwait(false);
        }

        return this._buffer.AsMemory(this._start, Math.Min(count, this._end - this._start));
    }

    /// <summary>The next line without its '\n' (and '\r'), valid until the next call; false at the end.</summary>
    public async ValueTask<(bool Found, ReadOnlyMemory<byte> Line)> ReadLineAsync(CancellationToken cancellationToken)
    {
        bool discarding = false;
        while (true)
        {
            int newline = this._buffer.AsSpan(this._scanned, this._end - this._scanned).IndexOf((byte)'\n');
            if (newline >= 0)
            {
                int lineEnd = this._scanned + newline;
                var line = this._buffer.AsMemory(this._start, lineEnd - this._start);
                this._start = this._scanned = lineEnd + 1;
                return this.Return(discarding, line);
            }

            this._scanned = this._end;
            if (this._eof)
            {
                if (this._start == this._end && !discarding)
                {
                    return (false, default);
                }

                var line = this._buffer.AsMemory(this._start, this._end - this._start);
                this._start = this._scanned = this._end;
                return this.Return(discarding, line);
            }

            if (this._end - this._start > this._maxLineBytes)
            {
                // Too long to keep: drop what there is and keep reading to the line's end.
                discarding = true;
                this._start = this._scanned = this._end = 0;
            }

            await this.FillAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private (bool, ReadOnlyMemory<byte>) Return(bool discarding, ReadOnlyMemory<byte> line)
    {
        this.LineNumber++;
        this.TooLong = discarding || line.Length > this._maxLineBytes;
        if (this.TooLong)
        {
            return (true, default);
        }

        return (true, line.Span.EndsWith((byte)'\r') ? line[..^1] : line);
    }

    private async ValueTask FillAsync(CancellationToken cancellationToken)
    {
        if (this._start > 0 && this._end == this._buffer.Length)
        {
            // Move the unfinished line to the front before growing.
            int kept = this._end - this._start;
            Buffer.BlockCopy(this._buffer, this._start, this._buffer, 0, kept);
            this._scanned -= this._start;
            this._start = 0;
            this._end = kept;
        }

        if (this._end == this._buffer.Length)
        {
            Array.Resize(ref this._buffer, (int)Math.Min(Array.MaxLength, this._buffer.Length * 2L));
        }

        int read = await this._stream.ReadAsync(this._buffer.AsMemory(this._end), cancellationToken).ConfigureAwait(false);
        if (read == 0)
        {
            this._eof = true;
        }

        this._end += read;
    }
}
