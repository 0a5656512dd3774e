using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace T5Gemma2.Rag.Cli.Bench;

/// <summary>
/// The one writer of <c>t5rag bench serve</c>'s search phase: uploads a small document carrying a marker word that no
/// other passage has (<c>POST …/documents</c>, 202 and a job), waits for its ingestion job, and again until the phase
/// ends; afterwards <see cref="VerifyAsync"/> searches each marker by keyword, so "every uploaded document is
/// searchable" is counted, not assumed. A server without the documents endpoint (404 or 405) is noted and the phase
/// goes on without uploads.
/// </summary>
internal sealed class UploadWriter
{
    private static readonly TimeSpan s_poll = TimeSpan.FromMilliseconds(100);
    private readonly ServeClient _client;
    private readonly string _collection;
    private readonly IReadOnlyList<string> _texts;
    private readonly TimeSpan _jobTimeout;
    private readonly string _run;
    private readonly Random _random;

    /// <param name="texts">The collection's passages: each upload is made of two of them around its marker.</param>
    /// <param name="jobTimeout">How long one job may take before the writer stops waiting for it (it then counts as not searchable).</param>
    public UploadWriter(ServeClient client, string collection, IReadOnlyList<string> texts, int seed, TimeSpan jobTimeout)
    {
        this._client = client;
        this._collection = collection;
        this._texts = texts;
        this._jobTimeout = jobTimeout;
        this._random = new Random(seed ^ 0x3A17);

        // Letters only (so every tokenizer keeps a marker whole), new for every run: a collection reused from an earlier
        // run holds that run's markers, not this one's.
        var fresh = new Random();
        this._run = string.Concat(Enumerable.Range(0, 6).Select(_ => (char)('a' + fresh.Next(26))));
    }

    /// <summary>Why uploads stopped before the phase did (the server has no documents endpoint, or the key may not write), or null.</summary>
    public string? Unavailable { get; private set; }

    /// <summary>Uploads answered 202, in order, with their jobs' outcome.</summary>
    public List<Upload> Accepted { get; } = [];

    /// <summary>Upload responses other than 202, by status (each retried after its Retry-After, or a second).</summary>
    public SortedDictionary<int, int> Refused { get; } = [];

    /// <summary>Uploads and job polls that got no HTTP response.</summary>
    public int TransportErrors { get; private set; }

    /// <summary>Uploads one document after another (each after the last one's job ended) until <paramref name="deadline"/>.</summary>
    public async Task RunAsync(long deadline, CancellationToken cancellationToken)
    {
        while (Stopwatch.GetTimestamp() < deadline && this.Unavailable is null)
        {
            int index = this.Accepted.Count;
            string marker = this.Marker(index);
            string text = $"{this._texts[this._random.Next(this._texts.Count)]} {marker} {this._texts[this._random.Next(this._texts.Count)]}";
            string file = string.Create(CultureInfo.InvariantCulture, $"serve-bench-{this._run}-{index:D5}.txt");
            HttpResponseMessage response;
            try
            {
                response = await this._client.UploadAsync(this._collection, [(file, text)], cancellationToken);
            }
            catch (HttpRequestException)
            {
                this.TransportErrors++;
                await Task.Delay(s_poll, cancellationToken);
                continue;
            }

            using (response)
            {
                if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed)
                {
                    this.Unavailable = $"endpoint not available (POST /api/collections/{this._collection}/documents answered {(int)response.StatusCode})";
                    return;
                }

                if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
                {
                    this.Unavailable = $"refused (POST /api/collections/{this._collection}/documents answered {(int)response.StatusCode}: --key is not a writer's key for the collection)";
                    return;
                }

                if (response.StatusCode != HttpStatusCode.Accepted)
                {
                    // Busy (429, 503: as long as Retry-After says) or refused for another reason (a second): counted, tried again.
                    this.Refused[(int)response.StatusCode] = this.Refused.GetValueOrDefault((int)response.StatusCode) + 1;
                    await Task.Delay(ServeClient.RetryAfter(response), cancellationToken);
                    continue;
                }

                long accepted = Stopwatch.GetTimestamp();
                var upload = new Upload(marker);
                this.Accepted.Add(upload);
                if (await ServeClient.JobAddressAsync(response, cancellationToken) is not { } job)
                {
                    upload.State = "no job in the 202";
                    continue;
                }

                var (state, finished, transport) = await this._client.WaitForJobAsync(job, this._jobTimeout, cancellationToken);
                upload.State = state;
                upload.Seconds = finished ? Stopwatch.GetElapsedTime(accepted).TotalSeconds : null;
                this.TransportErrors += transport;
            }
        }
    }

    /// <summary>How many accepted uploads a keyword search for their marker finds (a returned passage holding the word).</summary>
    public async Task<(int Found, List<string> Missing)> VerifyAsync(CancellationToken cancellationToken)
    {
        int found = 0;
        var missing = new List<string>();
        foreach (var upload in this.Accepted)
        {
            bool hit = false;
            try
            {
                using var response = await this._client.SearchAsync(this._collection, upload.Marker, "keyword", 5, cancellationToken);
                hit = response.IsSuccessStatusCode && (await response.Content.ReadAsStringAsync(cancellationToken)).Contains(upload.Marker, StringComparison.Ordinal);
            }
            catch (HttpRequestException)
            {
                this.TransportErrors++;
            }

            if (hit)
            {
                found++;
            }
            else
            {
                missing.Add($"{upload.Marker} (job {upload.State ?? "not finished"})");
            }
        }

        return (found, missing);
    }

    /// <summary>"qx", the run's six letters, then the upload's index in four letters (base 26).</summary>
    private string Marker(int index)
    {
        Span<char> digits = stackalloc char[4];
        for (int d = digits.Length - 1; d >= 0; d--, index /= 26)
        {
            digits[d] = (char)('a' + (index % 26));
        }

        return "qx" + this._run + new string(digits);
    }

    /// <summary>One accepted upload: its marker word, how its job ended and how long after the 202.</summary>
    internal sealed class Upload(string marker)
    {
        public string Marker { get; } = marker;

        /// <summary>The job's final state (succeeded, completed_with_errors, failed), or why it is unknown; null while it runs.</summary>
        public string? State { get; set; }

        /// <summary>Seconds from the 202 to the job's end; null when it did not end.</summary>
        public double? Seconds { get; set; }
    }
}
