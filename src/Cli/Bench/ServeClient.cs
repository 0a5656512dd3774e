using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace T5Gemma2.Rag.Cli.Bench;

/// <summary>
/// The HTTP calls <c>t5rag bench serve</c> makes, all over one <see cref="HttpClient"/> whose handler may open as many
/// connections as there are clients, so no client waits for another's connection and the figures are the server's.
/// </summary>
internal sealed class ServeClient : IDisposable
{
    private readonly HttpClient _http;

    /// <param name="connections">Concurrent requests at most (the clients of the largest phase, and the writer).</param>
    public ServeClient(Uri baseAddress, string? key, int connections)
    {
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = Math.Max(1, connections),
            ConnectTimeout = TimeSpan.FromSeconds(10),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        };

        // No client-side timeout: each phase ends its requests itself, and a slow answer is a figure, not an error.
        this._http = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = Timeout.InfiniteTimeSpan };
        if (key is not null)
        {
            this._http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
    }

    public Uri BaseAddress => this._http.BaseAddress!;

    public Task<HttpResponseMessage> GetAsync(string path, CancellationToken cancellationToken) => this._http.GetAsync(path, cancellationToken);

    /// <summary><c>GET /api/collections/{name}</c>.</summary>
    public Task<HttpResponseMessage> GetCollectionAsync(string collection, CancellationToken cancellationToken) => this._http.GetAsync(CollectionPath(collection), cancellationToken);

    /// <summary><c>PUT /api/collections/{name}</c> (an admin key, or none on loopback while the server has none).</summary>
    public Task<HttpResponseMessage> CreateCollectionAsync(string collection, CancellationToken cancellationToken) => this._http.PutAsync(CollectionPath(collection), content: null, cancellationToken);

    /// <summary><c>POST /api/collections/{name}/search</c>.</summary>
    public Task<HttpResponseMessage> SearchAsync(string collection, string query, string mode, int top, CancellationToken cancellationToken) =>
        this._http.PostAsync(CollectionPath(collection) + "/search", Json(new { query, mode, top }), cancellationToken);

    /// <summary><c>POST /api/collections/{name}/ask</c>, answered as one JSON body.</summary>
    public Task<HttpResponseMessage> AskAsync(string collection, string question, int top, int maxNewTokens, CancellationToken cancellationToken) =>
        this._http.PostAsync(CollectionPath(collection) + "/ask", Json(new { question, top, max_new_tokens = maxNewTokens, stream = false }), cancellationToken);

    /// <summary><c>POST /api/collections/{name}/documents</c>: the files as multipart parts named <c>files</c>.</summary>
    public Task<HttpResponseMessage> UploadAsync(string collection, IEnumerable<(string Name, string Text)> files, CancellationToken cancellationToken)
    {
        var form = new MultipartFormDataContent();
        foreach (var (name, text) in files)
        {
            var part = new ByteArrayContent(Encoding.UTF8.GetBytes(text));
            part.Headers.ContentType = new MediaTypeHeaderValue("text/plain") { CharSet = "utf-8" };
            form.Add(part, "files", name);
        }

        return this._http.PostAsync(CollectionPath(collection) + "/documents", form, cancellationToken);
    }

    /// <summary>
    /// Polls a job (<c>GET /api/jobs/{id}</c>) until its state is final (succeeded, completed_with_errors, failed) or
    /// <paramref name="timeout"/> passes; the state, or why it is unknown, and the polls that got no HTTP response.
    /// </summary>
    public async Task<(string State, bool Finished, int TransportErrors)> WaitForJobAsync(string job, TimeSpan timeout, CancellationToken cancellationToken)
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        int transport = 0;
        while (System.Diagnostics.Stopwatch.GetElapsedTime(started) < timeout)
        {
            try
            {
                using var response = await this._http.GetAsync(job, cancellationToken);
                if (!response.IsSuccessStatusCode)
                {
                    return ($"{(int)response.StatusCode} from {job}", false, transport);
                }

                string? state = await ReadPropertyAsync(response, "state", cancellationToken);
                if (state is "succeeded" or "completed_with_errors" or "failed")
                {
                    return (state, true, transport);
                }
            }
            catch (HttpRequestException)
            {
                transport++;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
        }

        return (string.Create(System.Globalization.CultureInfo.InvariantCulture, $"not finished after {timeout.TotalSeconds:F0} s"), false, transport);
    }

    /// <summary>Where a 202's job is: its Location, else <c>/api/jobs/{job_id}</c>; null when the answer names none.</summary>
    public static async Task<string?> JobAddressAsync(HttpResponseMessage accepted, CancellationToken cancellationToken) =>
        accepted.Headers.Location?.OriginalString
        ?? (await ReadPropertyAsync(accepted, "job_id", cancellationToken) is { } id ? "/api/jobs/" + Uri.EscapeDataString(id) : null);

    /// <summary>A JSON response's top-level string or number property, or null when the body is not JSON or lacks it.</summary>
    public static async Task<string?> ReadPropertyAsync(HttpResponseMessage response, string name, CancellationToken cancellationToken)
    {
        try
        {
            using var document = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty(name, out var value)
                ? value.ValueKind switch { JsonValueKind.String => value.GetString(), JsonValueKind.Number => value.GetRawText(), _ => null }
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The time a response asks to wait before the next try (Retry-After, as a 429 or 503 sends it), else a second.</summary>
    public static TimeSpan RetryAfter(HttpResponseMessage response) =>
        response.Headers.RetryAfter?.Delta is { } delta && delta > TimeSpan.Zero ? delta : TimeSpan.FromSeconds(1);

    public void Dispose() => this._http.Dispose();

    private static string CollectionPath(string collection) => "/api/collections/" + Uri.EscapeDataString(collection);

    private static JsonContent Json<T>(T body) => JsonContent.Create(body);
}
