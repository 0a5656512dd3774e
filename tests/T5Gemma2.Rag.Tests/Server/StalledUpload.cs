using System.Net;
using System.Text;

namespace T5Gemma2.Rag.Tests.Server;

/// <summary>A multipart body that sends one file's header and part of its content, then stalls until the request is cancelled.</summary>
internal sealed class StalledUpload : HttpContent
{
    private readonly byte[] _start;

    public StalledUpload(string fileName, string content)
    {
        this._start = Encoding.UTF8.GetBytes($"--b\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{fileName}\"\r\nContent-Type: text/markdown\r\n\r\n{content}");
        this.Headers.TryAddWithoutValidation("Content-Type", "multipart/form-data; boundary=b");
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => this.SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        await stream.WriteAsync(this._start, cancellationToken);
        await stream.FlushAsync(cancellationToken);
        await Task.Delay(Timeout.Infinite, cancellationToken);
    }

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }
}
