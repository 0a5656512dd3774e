using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace T5Gemma2.Rag.Tests.Hub;

/// <summary>
/// A loopback HTTP server with the Hugging Face Hub's URL layout (/api/models/{id}/revision/{rev}?blobs=true and
/// /{id}/resolve/{rev}/{path}), serving the files of a local directory, with range requests, and switches to demand
/// a token or to corrupt a file. Only ever bound to 127.0.0.1.
/// </summary>
internal sealed class LocalHubServer : IDisposable
{
    public const string Commit = "0123456789abcdef0123456789abcdef01234567";

    private readonly HttpListener _listener = new();
    private readonly string _repository;
    private readonly string _directory;
    private readonly Task _loop;

    public LocalHubServer(string repository, string directory)
    {
        this._repository = repository;
        this._directory = directory;
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
        }

        this.Endpoint = $"http://127.0.0.1:{port}/";
        this._listener.Prefixes.Add(this.Endpoint);
        this._listener.Start();
        this._loop = Task.Run(this.ServeAsync);
    }

    public string Endpoint { get; }

    /// <summary>When set, requests without "Authorization: Bearer {token}" get 401.</summary>
    public string? RequiredToken { get; set; }

    /// <summary>A file whose served bytes are altered (its listed hash stays the true one).</summary>
    public string? CorruptFile { get; set; }

    /// <summary>When set, Range headers are ignored and the whole file is sent with 200, as some mirrors do.</summary>
    public bool IgnoreRange { get; set; }

    /// <summary>Every file request: path and the range start asked for (0 when none).</summary>
    public ConcurrentQueue<(string Path, long RangeStart)> Requests { get; } = new();

    public void Dispose()
    {
        this._listener.Stop();
        this._listener.Close();
        try
        {
            this._loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // The listener was stopped under a pending GetContextAsync.
        }
    }

    private async Task ServeAsync()
    {
        while (this._listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await this._listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            try
            {
                await this.HandleAsync(context);
            }
            catch (Exception ex) when (ex is HttpListenerException or IOException)
            {
                // The client went away.
            }
            finally
            {
                context.Response.Close();
            }
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        var response = context.Response;
        if (this.RequiredToken is not null && context.Request.Headers["Authorization"] != $"Bearer {this.RequiredToken}")
        {
            response.StatusCode = 401;
            return;
        }

        string path = Uri.UnescapeDataString(context.Request.Url!.AbsolutePath);
        string listing = $"/api/models/{this._repository}/revision/";
        string resolve = $"/{this._repository}/resolve/";
        if (path.StartsWith(listing, StringComparison.Ordinal))
        {
            await WriteAsync(response, "application/json", Encoding.UTF8.GetBytes(this.Listing()));
            return;
        }

        if (!path.StartsWith(resolve, StringComparison.Ordinal))
        {
            response.StatusCode = 404;
            return;
        }

        string relative = path[resolve.Length..];
        relative = relative[(relative.IndexOf('/', StringComparison.Ordinal) + 1)..]; // drop the revision
        string file = Path.Combine(this._directory, relative);
        if (!File.Exists(file))
        {
            response.StatusCode = 404;
            return;
        }

        byte[] content = await File.ReadAllBytesAsync(file);
        if (relative == this.CorruptFile)
        {
            content[content.Length / 2] ^= 0xFF;
        }

        long start = 0;
        string? range = context.Request.Headers["Range"];
        if (range is not null && range.StartsWith("bytes=", StringComparison.Ordinal) && !this.IgnoreRange)
        {
            start = long.Parse(range[6..].TrimEnd('-'), System.Globalization.CultureInfo.InvariantCulture);
            if (start >= content.Length)
            {
                this.Requests.Enqueue((relative, start));
                response.StatusCode = 416;
                response.AddHeader("Content-Range", $"bytes */{content.Length}");
                return;
            }

            response.StatusCode = 206;
            response.AddHeader("Content-Range", $"bytes {start}-{content.Length - 1}/{content.Length}");
        }

        this.Requests.Enqueue((relative, start));
        response.AddHeader("X-Repo-Commit", Commit);
        await WriteAsync(response, "application/octet-stream", content.AsMemory((int)start).ToArray());
    }

    private string Listing()
    {
        // Every file, sub-folders included (a sentence-transformers repository's module folders), as the Hub lists them.
        var siblings = Directory.EnumerateFiles(this._directory, "*", SearchOption.AllDirectories).Select(file =>
        {
            byte[] content = File.ReadAllBytes(file);
            string name = Path.GetRelativePath(this._directory, file).Replace('\\', '/');
            if (name.EndsWith(".safetensors", StringComparison.Ordinal) || name.EndsWith(".bin", StringComparison.Ordinal))
            {
                return (object)new { rfilename = name, size = content.Length, lfs = new { sha256 = Convert.ToHexStringLower(SHA256.HashData(content)), size = content.Length } };
            }

            byte[] blob = [.. Encoding.ASCII.GetBytes($"blob {content.Length}\0"), .. content];
            return new { rfilename = name, size = content.Length, blobId = Convert.ToHexStringLower(SHA1.HashData(blob)) };
        });
        return JsonSerializer.Serialize(new { id = this._repository, sha = Commit, siblings });
    }

    private static async Task WriteAsync(HttpListenerResponse response, string contentType, byte[] body)
    {
        response.ContentType = contentType;
        response.ContentLength64 = body.Length;
        await response.OutputStream.WriteAsync(body);
    }
}
