using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace T5Gemma2.Rag.Encoder.Hub;

/// <summary>
/// Downloads model files from the Hugging Face Hub with its own URL layout: the file list from
/// <c>/api/models/{id}/revision/{rev}?blobs=true</c>, content from <c>/{id}/resolve/{rev}/{path}</c>. Downloads resume
/// from a <c>.incomplete</c> file with an HTTP range, are checked against the Hub's sha256 (LFS) or git blob id, and
/// only then take their final name, so an interrupted or corrupted download is never mistaken for a good one.
/// </summary>
public sealed class HuggingFaceHubClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly HuggingFaceHubOptions _options;
    private readonly bool _ownsHttp;

    public HuggingFaceHubClient(HuggingFaceHubOptions? options = null, HttpClient? httpClient = null)
    {
        this._options = options ?? new HuggingFaceHubOptions();
        this._ownsHttp = httpClient is null;
        this._http = httpClient ?? new HttpClient(new SocketsHttpHandler { ConnectTimeout = this._options.ConnectTimeout, AutomaticDecompression = DecompressionMethods.None })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    /// <summary>The files of <paramref name="repository"/> at <paramref name="revision"/>, and the commit it resolves to.</summary>
    public async Task<(string Commit, IReadOnlyList<HubFile> Files)> ListFilesAsync(string repository, string revision, CancellationToken cancellationToken = default)
    {
        var uri = new Uri(this._options.Endpoint, $"api/models/{repository}/revision/{Uri.EscapeDataString(revision)}?blobs=true");
        using var response = await this.SendAsync(HttpMethod.Get, uri, repository, rangeStart: 0, cancellationToken).ConfigureAwait(false);
        try
        {
            using var document = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), cancellationToken: cancellationToken).ConfigureAwait(false);
            var root = document.RootElement;
            string commit = root.TryGetProperty("sha", out var sha) ? sha.GetString() ?? revision : revision;
            var files = new List<HubFile>();
            foreach (var sibling in root.GetProperty("siblings").EnumerateArray())
            {
                string? lfsSha = sibling.TryGetProperty("lfs", out var lfs) && lfs.ValueKind == JsonValueKind.Object && lfs.TryGetProperty("sha256", out var hash) ? hash.GetString() : null;
                long? size = sibling.TryGetProperty("size", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetInt64() : null;
                string? blob = sibling.TryGetProperty("blobId", out var b) ? b.GetString() : null;
                files.Add(new HubFile(sibling.GetProperty("rfilename").GetString()!, size, lfsSha?.ToLowerInvariant(), blob));
            }

            return (commit, files);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new HubException($"{uri}: the answer is not a Hub file list ({ex.Message.Split('\n')[0]}); expected JSON with \"siblings\".", ex);
        }
    }

    /// <summary>
    /// Downloads <paramref name="file"/> to <paramref name="destination"/>, resuming a previous partial download and
    /// checking the content against the hash the Hub listed. A destination that already holds the right content is kept.
    /// </summary>
    /// <param name="progress">Receives the bytes received so far (including resumed ones).</param>
    public async Task DownloadAsync(string repository, string commit, HubFile file, string destination, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (File.Exists(destination) && await MatchesAsync(destination, file, cancellationToken).ConfigureAwait(false))
        {
            progress?.Report(new FileInfo(destination).Length);
            return;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(destination))!);

        // The partial file is named after the content it should become, so one from another revision is never resumed.
        string key = file.Sha256 ?? file.GitBlobId ?? "unverified";
        string partial = $"{destination}.{key[..Math.Min(12, key.Length)]}.incomplete";
        long existing = File.Exists(partial) ? new FileInfo(partial).Length : 0;
        if (existing > 0 && file.Size is long size && existing >= size)
        {
            // Complete already (a run stopped while checking it): check it without asking for an empty range.
            if (!await MatchesAsync(partial, file, cancellationToken).ConfigureAwait(false))
            {
                File.Delete(partial);
                existing = 0;
            }
        }

        if (existing == 0 || file.Size is not long known || existing < known)
        {
            await this.FetchAsync(repository, commit, file, partial, existing, progress, cancellationToken).ConfigureAwait(false);
        }

        if (!await MatchesAsync(partial, file, cancellationToken).ConfigureAwait(false))
        {
            File.Delete(partial);
            throw new HubException($"{repository}/{file.Path}: the downloaded content does not match the Hub's {(file.Sha256 is not null ? "sha256 " + file.Sha256 : "git blob id " + file.GitBlobId)}; the partial file was removed, run again.");
        }

        File.Move(partial, destination, overwrite: true);
    }

    private async Task FetchAsync(string repository, string commit, HubFile file, string partial, long existing, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        var uri = new Uri(this._options.Endpoint, $"{repository}/resolve/{Uri.EscapeDataString(commit)}/{string.Join('/', file.Path.Split('/').Select(Uri.EscapeDataString))}");
        using var response = await this.SendAsync(HttpMethod.Get, uri, repository, existing, cancellationToken).ConfigureAwait(false);

        // Resume only when the server answered the range from where the partial file ends; otherwise start over.
        bool resumed = existing > 0 && response.StatusCode == HttpStatusCode.PartialContent && response.Content.Headers.ContentRange?.From == existing;
        long received = resumed ? existing : 0;
        var output = new FileStream(partial, resumed ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20, useAsync: true);
        await using var outputScope = output.ConfigureAwait(false);
        var input = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using var inputScope = input.ConfigureAwait(false);
        var buffer = new byte[1 << 20];
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            while (true)
            {
                // A server that stops sending without closing would otherwise hold the download forever.
                idle.CancelAfter(this._options.ConnectTimeout);
                int read = await input.ReadAsync(buffer, idle.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                received += read;
                progress?.Report(received);
            }
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new HubException($"{uri}: no data for {this._options.ConnectTimeout.TotalSeconds:F0} s after {received} bytes; run the command again to resume.", ex);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            throw new HubException($"{uri}: the download broke off after {received} bytes ({ex.Message.Split('\n')[0]}); run the command again to resume.", ex);
        }
    }

    public void Dispose()
    {
        if (this._ownsHttp)
        {
            this._http.Dispose();
        }
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, Uri uri, string repository, long rangeStart, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, uri);
        if (this._options.Token is { Length: > 0 } token)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (rangeStart > 0)
        {
            request.Headers.Range = new RangeHeaderValue(rangeStart, null);
        }

        HttpResponseMessage response;
        using var answer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        answer.CancelAfter(this._options.ConnectTimeout);
        try
        {
            response = await this._http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, answer.Token).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new HubException($"cannot reach {this._options.Endpoint} ({ex.Message.Split('\n')[0]}); expected network access to the Hugging Face Hub, or --endpoint / HF_ENDPOINT for a mirror.", ex);
        }
        catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new HubException($"{this._options.Endpoint} did not answer within {this._options.ConnectTimeout.TotalSeconds:F0} s; expected the Hugging Face Hub or a mirror there.", ex);
        }

        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable && rangeStart > 0)
        {
            // The partial file is longer than the file now is: fetch it whole.
            response.Dispose();
            return await this.SendAsync(method, uri, repository, rangeStart: 0, cancellationToken).ConfigureAwait(false);
        }

        using (response)
        {
            throw response.StatusCode switch
            {
                HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => new HubException(
                    $"{repository}: the Hub refused access ({(int)response.StatusCode}); gated or private models need HF_TOKEN set to a token that has accepted the model's terms."),
                HttpStatusCode.NotFound => new HubException($"{uri}: not found (404); expected a model id like google/t5gemma-2-270m-270m and an existing revision and file."),
                _ => new HubException($"{uri}: the Hub answered {(int)response.StatusCode} {response.ReasonPhrase}."),
            };
        }
    }

    private static async Task<bool> MatchesAsync(string path, HubFile file, CancellationToken cancellationToken)
    {
        if (file.Size is long size && new FileInfo(path).Length != size)
        {
            return false;
        }

        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, useAsync: true);
        await using var streamScope = stream.ConfigureAwait(false);
        if (file.Sha256 is not null)
        {
            byte[] hash = await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false);
            return Convert.ToHexStringLower(hash) == file.Sha256;
        }

        if (file.GitBlobId is not null)
        {
            // git's blob id: sha1 of "blob <size>\0" followed by the content.
            using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
            sha1.AppendData(Encoding.ASCII.GetBytes($"blob {stream.Length}\0"));
            var buffer = new byte[1 << 16];
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                sha1.AppendData(buffer, 0, read);
            }

            return Convert.ToHexStringLower(sha1.GetHashAndReset()) == file.GitBlobId;
        }

        return true; // the Hub listed no hash: the size check above is all there is
    }
}
