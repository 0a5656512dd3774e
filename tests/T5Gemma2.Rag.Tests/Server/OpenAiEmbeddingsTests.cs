using System.Buffers.Binary;
using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using OpenAI;
using OpenAI.Embeddings;
using T5Gemma2.Rag.Server.Security;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Server;

/// <summary>
/// <c>/v1/embeddings</c> and <c>/v1/models</c> through the official OpenAI .NET client, against the real MiniLM model:
/// the vectors are the embedding generator's own, the models are the key's, and errors come in OpenAI's shape.
/// </summary>
public sealed class OpenAiEmbeddingsTests(SharedMiniLm miniLm) : IDisposable
{
    private static readonly string[] s_texts = ["The merged attention joins self and cross attention.", "Qdrant stores vectors with payloads.", ""];

    private readonly KnowledgeBaseServerFactory _server = new();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private string ModelId => this._server.Collections.EmbeddingModelId;

    public void Dispose() => this._server.Dispose();

    [Fact]
    public async Task TheOfficialClientGetsTheVectorsTheEmbeddingGeneratorMakes()
    {
        var client = this.Client(this._server.CreateKey("reader", ApiKeyRole.Reader, "docs")).GetEmbeddingClient(this.ModelId);

        var result = await client.GenerateEmbeddingsAsync(s_texts, cancellationToken: Token);
        var expected = await miniLm.Generator.GenerateAsync(s_texts, cancellationToken: Token);

        Assert.Equal(s_texts.Length, result.Value.Count);
        for (int i = 0; i < s_texts.Length; i++)
        {
            Assert.Equal(i, result.Value[i].Index);
            Assert.Equal(expected[i].Vector.ToArray(), result.Value[i].ToFloats().ToArray());
        }

        // The tokens the generator embedded: [CLS] and [SEP] around each text's word pieces.
        long tokens = expected.Usage!.InputTokenCount!.Value;
        Assert.Equal(s_texts.Sum(t => (long)((Microsoft.ML.Tokenizers.BertTokenizer)miniLm.Generator.Tokenizer).EncodeToIds(t, addSpecialTokens: true).Count), tokens);
        Assert.Equal(tokens, result.Value.Usage.InputTokenCount);
        Assert.Equal(tokens, result.Value.Usage.TotalTokenCount);
        Assert.Equal(this.ModelId, result.Value.Model);
    }

    [Fact]
    public async Task DimensionsCutAndRenormaliseAsTheGeneratorDoesInBothEncodings()
    {
        string key = this._server.CreateKey("reader", ApiKeyRole.Reader, "docs");
        var client = this.Client(key).GetEmbeddingClient(this.ModelId);
        var expected = await miniLm.Generator.GenerateAsync(s_texts[..2], new Microsoft.Extensions.AI.EmbeddingGenerationOptions { Dimensions = 128 }, Token);

        var cut = await client.GenerateEmbeddingsAsync(s_texts[..2], new OpenAI.Embeddings.EmbeddingGenerationOptions { Dimensions = 128 }, Token);
        Assert.Equal(expected[0].Vector.ToArray(), cut.Value[0].ToFloats().ToArray());
        Assert.Equal(1.0, Math.Sqrt(cut.Value[1].ToFloats().ToArray().Sum(x => (double)x * x)), 5);

        // By hand: floats as JSON numbers, and base64 as little-endian float32 bytes.
        using var http = this._server.ClientWithKey(key);
        using var floats = JsonDocument.Parse(await (await http.PostAsJsonAsync("/v1/embeddings", new { input = s_texts[1], model = this.ModelId, dimensions = 128, encoding_format = "float", user = "ignored", extra = new { any = 1 } }, Token)).Content.ReadAsStringAsync(Token));
        Assert.Equal(expected[1].Vector.ToArray(), floats.RootElement.GetProperty("data")[0].GetProperty("embedding").EnumerateArray().Select(e => e.GetSingle()));
        Assert.Equal("list", floats.RootElement.GetProperty("object").GetString());
        using var packed = JsonDocument.Parse(await (await http.PostAsJsonAsync("/v1/embeddings", new { input = new[] { s_texts[1] }, model = this.ModelId, dimensions = 128, encoding_format = "base64" }, Token)).Content.ReadAsStringAsync(Token));
        byte[] bytes = Convert.FromBase64String(packed.RootElement.GetProperty("data")[0].GetProperty("embedding").GetString()!);
        Assert.Equal(expected[1].Vector.ToArray(), Enumerable.Range(0, bytes.Length / 4).Select(i => BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * 4))));
    }

    [Fact]
    public async Task BadRequestsAreOpenAiErrorsThatNameTheParameter()
    {
        using var http = this._server.ClientWithKey(this._server.CreateKey("reader", ApiKeyRole.Reader, "docs"));
        (string Body, HttpStatusCode Status, string? Param, string? Code)[] cases =
        [
            ($$"""{"input": [[101, 2023]], "model": "{{this.ModelId}}"}""", HttpStatusCode.BadRequest, "input", null),
            ($$"""{"input": [1, 2, 3], "model": "{{this.ModelId}}"}""", HttpStatusCode.BadRequest, "input", null),
            ($$"""{"input": [], "model": "{{this.ModelId}}"}""", HttpStatusCode.BadRequest, "input", null),
            ($$"""{"model": "{{this.ModelId}}"}""", HttpStatusCode.BadRequest, "input", null),
            ("""{"input": "x", "model": "text-embedding-3-small"}""", HttpStatusCode.NotFound, "model", "model_not_found"),
            ("""{"input": "x"}""", HttpStatusCode.BadRequest, "model", null),
            ($$"""{"input": "x", "model": "{{this.ModelId}}", "dimensions": 0}""", HttpStatusCode.BadRequest, "dimensions", null),
            ($$"""{"input": "x", "model": "{{this.ModelId}}", "dimensions": 100000}""", HttpStatusCode.BadRequest, "dimensions", null),
            ($$"""{"input": "x", "model": "{{this.ModelId}}", "dimensions": "64"}""", HttpStatusCode.BadRequest, "$.dimensions", null),
            ($$"""{"input": "x", "model": "{{this.ModelId}}", "encoding_format": "int8"}""", HttpStatusCode.BadRequest, "encoding_format", null),
            ($$"""{"input": {{JsonSerializer.Serialize(Enumerable.Repeat("a", 2049))}}, "model": "{{this.ModelId}}"}""", HttpStatusCode.BadRequest, "input", null),
            ($$"""{"input": "{{new string('a', 2 << 20)}}", "model": "{{this.ModelId}}"}""", HttpStatusCode.RequestEntityTooLarge, null, "request_too_large"),
            ("{\"input\": ", HttpStatusCode.BadRequest, "$.input", null),
        ];
        foreach (var (body, status, param, code) in cases)
        {
            var response = await http.PostAsync("/v1/embeddings", new StringContent(body, Encoding.UTF8, "application/json"), Token);
            string text = await response.Content.ReadAsStringAsync(Token);
            Assert.True(status == response.StatusCode, $"{body[..Math.Min(80, body.Length)]}: {response.StatusCode} {text}");
            using var json = JsonDocument.Parse(text);
            var error = json.RootElement.GetProperty("error");
            Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
            Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
            Assert.Equal(param, error.GetProperty("param").GetString());
            Assert.Equal(code, error.GetProperty("code").GetString());
        }

        // The official client reads the shape into its exception.
        var wrongModel = await Assert.ThrowsAsync<ClientResultException>(() => this.Client(this._server.CreateKey("other", ApiKeyRole.Reader, "docs")).GetEmbeddingClient("text-embedding-3-small").GenerateEmbeddingAsync("x", cancellationToken: Token));
        Assert.Equal(404, wrongModel.Status);
        Assert.Contains("text-embedding-3-small", wrongModel.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ModelsAreTheEmbeddingModelAndTheKeysCollectionsOnly()
    {
        await this._server.IndexAsync("alpha", ("a.md", "Alpha text."));
        await this._server.IndexAsync("beta", ("b.md", "Beta text."));
        var alphaKey = this.Client(this._server.CreateKey("alpha-reader", ApiKeyRole.Reader, "alpha"));
        var allKey = this.Client(this._server.CreateKey("all-reader", ApiKeyRole.Reader, "*"));

        var alpha = (await alphaKey.GetOpenAIModelClient().GetModelsAsync(Token)).Value;
        Assert.Equal([this.ModelId, "kb:alpha"], alpha.Select(m => m.Id));
        Assert.All(alpha, m => Assert.Equal("t5rag", m.OwnedBy));
        var all = (await allKey.GetOpenAIModelClient().GetModelsAsync(Token)).Value;
        Assert.Equal([this.ModelId, "kb:alpha", "kb:beta"], all.Select(m => m.Id));
    }

    [Fact]
    public async Task NoKeyAWrongKeyAndARevokedKeyAre401InOpenAisShape()
    {
        // Another key stays, so the server has keys (with none, a keyless loopback caller is its operator).
        this._server.CreateKey("stays", ApiKeyRole.Reader, "docs");
        string key = this._server.CreateKey("soon-revoked", ApiKeyRole.Reader, "docs");
        Assert.Equal(HttpStatusCode.OK, (await this._server.ClientWithKey(key).GetAsync("/v1/models", Token)).StatusCode);
        Assert.True(this._server.Keys.Revoke("soon-revoked"));

        foreach (string? attempt in new[] { null, "t5rag_not-a-key", key })
        {
            using var http = this._server.ClientWithKey(attempt);
            var response = await http.PostAsJsonAsync("/v1/embeddings", new { input = "x", model = this.ModelId }, Token);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Token));
            Assert.Equal("invalid_api_key", json.RootElement.GetProperty("error").GetProperty("code").GetString());
        }

        var thrown = await Assert.ThrowsAsync<ClientResultException>(() => this.Client("t5rag_not-a-key").GetEmbeddingClient(this.ModelId).GenerateEmbeddingAsync("x", cancellationToken: Token));
        Assert.Equal(401, thrown.Status);
        var models = await Assert.ThrowsAsync<ClientResultException>(() => this.Client(key).GetOpenAIModelClient().GetModelsAsync(Token));
        Assert.Equal(401, models.Status);
    }

    [Fact]
    public async Task ChatWithoutAGeneratorIsAClearError()
    {
        await this._server.IndexAsync("docs", ("a.md", "Alpha text."));
        var client = this.Client(this._server.CreateKey("reader", ApiKeyRole.Reader, "docs"));

        var kb = await Assert.ThrowsAsync<ClientResultException>(() => client.GetChatClient("kb:docs").CompleteChatAsync([new OpenAI.Chat.UserChatMessage("What is alpha?")], cancellationToken: Token));
        Assert.Equal(501, kb.Status);
        Assert.Contains("--generator", kb.Message, StringComparison.Ordinal);
        var embedder = await Assert.ThrowsAsync<ClientResultException>(() => client.GetChatClient(this.ModelId).CompleteChatAsync([new OpenAI.Chat.UserChatMessage("Hello")], cancellationToken: Token));
        Assert.Equal(400, embedder.Status);
        Assert.Contains("embedding model", embedder.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OverTheRateLimitIs429InOpenAisShapeWithRetryAfter()
    {
        using var server = new KnowledgeBaseServerFactory(o => (o.RequestsPerSecondPerKey, o.BurstPerKey) = (1, 1));
        using var http = server.ClientWithKey(server.CreateKey("slow", ApiKeyRole.Reader, "docs"));

        var responses = new List<HttpResponseMessage>();
        for (int i = 0; i < 3; i++)
        {
            responses.Add(await http.GetAsync("/v1/models", Token));
        }

        Assert.Equal(HttpStatusCode.OK, responses[0].StatusCode);
        var limited = responses.First(r => r.StatusCode == HttpStatusCode.TooManyRequests);
        Assert.NotNull(limited.Headers.RetryAfter);
        using var json = JsonDocument.Parse(await limited.Content.ReadAsStringAsync(Token));
        Assert.Equal("rate_limit_exceeded", json.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal("rate_limit_error", json.RootElement.GetProperty("error").GetProperty("type").GetString());
    }

    /// <summary>The official client, pointed at the in-process server.</summary>
    internal static OpenAIClient Client(KnowledgeBaseServerFactory server, string key) =>
        new(new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(server.Server.BaseAddress, "/v1"), Transport = new HttpClientPipelineTransport(server.CreateClient()) });

    private OpenAIClient Client(string key) => Client(this._server, key);
}
