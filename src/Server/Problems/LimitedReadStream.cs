namespace T5Gemma2.Rag.Server.Problems;

/// <summary>Reads through to another stream and throws once more than the limit has come, whatever Content-Length said (chunked bodies have none).</summary>
internal sealed class LimitedReadStream(Stream inner, long limit) : Stream
{
    private long _read;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => this._read; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => this.Count(inner.Read(buffer, offset, count));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        this.Count(await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        this.ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    private int Count(int read)
    {
        this._read += read;
        return this._read > limit ? throw new LimitExceededException() : read;
    }

    /// <summary>More than the limit was read.</summary>
    internal sealed class LimitExceededException : IOException
    {
        public LimitExceededException()
            : base("the body is over its limit.")
        {
        }
    }
}
