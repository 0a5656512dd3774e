using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace T5Gemma2.Rag.Tests.Server;

/// <summary>Uploads files to the documents endpoint as a client does (multipart/form-data) and follows the job it starts.</summary>
internal static class Uploads
{
    /// <summary>A multipart body: one <c>files</c> part per file (with its file name), one <c>tags</c> part per tag.</summary>
    public static MultipartFormDataContent Form(IEnumerable<(string Name, byte[] Content)> files, params string[] tags)
    {
        var form = new MultipartFormDataContent();
        foreach (var (name, content) in files)
        {
            var part = new ByteArrayContent(content);
            part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(part, "files", name);
        }

        foreach (string tag in tags)
        {
            form.Add(new StringContent(tag, Encoding.UTF8), "tags");
        }

        return form;
    }

    public static (string Name, byte[] Content) Text(string name, string text) => (name, Encoding.UTF8.GetBytes(text));

    /// <summary>Posts the files; returns the response and its JSON body.</summary>
    public static async Task<(HttpResponseMessage Response, JsonElement Body)> PostAsync(HttpClient client, string collection, IEnumerable<(string Name, byte[] Content)> files, params string[] tags)
    {
        using var form = Form(files, tags);
        var response = await client.PostAsync($"/api/collections/{collection}/documents", form, TestContext.Current.CancellationToken);
        string body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        return (response, body.Length == 0 ? default : JsonDocument.Parse(body).RootElement.Clone());
    }

    /// <summary>Uploads, asserts the 202, and waits for the job to finish; returns the finished job.</summary>
    public static async Task<JsonElement> IndexAsync(HttpClient client, string collection, IEnumerable<(string Name, byte[] Content)> files, params string[] tags)
    {
        var (response, body) = await PostAsync(client, collection, files, tags);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{response.StatusCode}: {body}");
        return await WaitForJobAsync(client, body.GetProperty("job_id").GetString()!);
    }

    /// <summary>Polls the job until it has finished (two minutes at most).</summary>
    public static async Task<JsonElement> WaitForJobAsync(HttpClient client, string jobId, TimeSpan? limit = null)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var job = await GetJsonAsync(client, $"/api/jobs/{jobId}");
            if (job.GetProperty("state").GetString() is "succeeded" or "completed_with_errors" or "failed")
            {
                return job;
            }

            Assert.True(clock.Elapsed < (limit ?? TimeSpan.FromMinutes(2)), $"job {jobId} did not finish: {job}");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>
    /// Waits until <paramref name="path"/> (an uploads folder, or one job's staging folder) holds nothing: a job's staged
    /// files are deleted just after it is recorded as finished (in that order, so a crash between cannot lose them).
    /// </summary>
    public static async Task WaitUntilGoneAsync(string path)
    {
        var clock = Stopwatch.StartNew();
        while (Directory.Exists(path) && Directory.EnumerateFileSystemEntries(path).Any())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"{path} still holds {string.Join(", ", Directory.EnumerateFileSystemEntries(path))}");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }

    public static async Task<JsonElement> GetJsonAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(path, TestContext.Current.CancellationToken);
        string body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>The document ids a search returns.</summary>
    public static async Task<List<string>> SearchAsync(HttpClient client, string collection, object request)
    {
        using var response = await client.PostAsync($"/api/collections/{collection}/search", JsonContent(request), TestContext.Current.CancellationToken);
        string body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"search: {response.StatusCode} {body}");
        return [.. JsonDocument.Parse(body).RootElement.GetProperty("passages").EnumerateArray().Select(p => p.GetProperty("document_id").GetString()!)];
    }

    public static StringContent JsonContent(object value) => new(JsonSerializer.Serialize(value), Encoding.UTF8, "application/json");

    /// <summary>Every document of the collection (all pages).</summary>
    public static async Task<List<JsonElement>> DocumentsAsync(HttpClient client, string collection)
    {
        var documents = new List<JsonElement>();
        while (true)
        {
            var page = await GetJsonAsync(client, $"/api/collections/{collection}/documents?offset={documents.Count}&limit=500");
            var items = page.GetProperty("documents").EnumerateArray().ToList();
            documents.AddRange(items);
            if (items.Count == 0 || documents.Count >= page.GetProperty("total").GetInt32())
            {
                return documents;
            }
        }
    }
}
