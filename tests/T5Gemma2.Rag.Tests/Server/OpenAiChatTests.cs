using System.ClientModel;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using OpenAI.Chat;
using T5Gemma2.Rag.Answering;
using T5Gemma2.Rag.Encoder.Generation;
using T5Gemma2.Rag.Server.Security;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Server;

/// <summary>
/// <c>/v1/chat/completions</c> through the official OpenAI .NET client, on the tiny random T5Gemma 2 as embedding
/// model and generator: its answers are random text, so the tests hold the structure, the streamed deltas against the
/// whole answer, the citations, and the usage against what the answerer, packer and generator give on their own.
/// </summary>
public sealed class OpenAiChatTests : IDisposable
{
    private const string Question = "What does the merged attention join?";

    private readonly KnowledgeBaseServerFactory _server;

    public OpenAiChatTests(SharedTinyT5Gemma2 tiny)
    {
        this._server = new KnowledgeBaseServerFactory(o =>
        {
            o.EmbeddingModelDirectory = tiny.ConvertedDirectory;
            o.GeneratorModelDirectory = tiny.ConvertedDirectory;
        });
    }

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public void Dispose() => this._server.Dispose();

    [Fact]
    public async Task AKbModelAnswersFromTheCollectionWithCitationsAndStreamsTheSameAnswer()
    {
        var services = await this._server.IndexAsync("docs", ("a.md", "The merged attention joins self and cross attention in one softmax."), ("b.md", "Qdrant stores vectors in collections with payloads."));
        var chat = this.Client(this._server.CreateKey("reader", ApiKeyRole.Reader, "docs")).GetChatClient("kb:docs");
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 12 };
        ChatMessage[] messages = [new SystemChatMessage("Answer briefly."), new UserChatMessage("An earlier question."), new AssistantChatMessage("An earlier answer."), new UserChatMessage(Question)];

        var whole = await chat.CompleteChatAsync(messages, options, Token);
        string content = whole.Value.Content[0].Text;

        // The answerer's own answer to the last user message alone, with the same settings (greedy).
        var expected = await services.Answerer!.AskAsync(Question, new AskOptions { Generation = new GenerationOptions { MaxNewTokens = 12 } }, Token);
        var generated = (await this._server.Collections.Generator!.GenerateFromIdsAsync([expected.Context.InputIds], new GenerationOptions { MaxNewTokens = 12 }, Token))[0];
        Assert.NotEqual(string.Empty, expected.Text); // the seeded model's answer: random words, but some
        Assert.StartsWith(expected.Text, content, StringComparison.Ordinal);
        Assert.Equal(generated.Text.Trim(), expected.Text);
        string sources = content[expected.Text.Length..].TrimStart('\n');
        Assert.StartsWith("Sources:\n[1] ", sources, StringComparison.Ordinal);
        Assert.All(expected.Citations.Where(c => c.Cited || !expected.Citations.Any(x => x.Cited)), c => Assert.Contains($"[{c.Number}] {c.Source}", sources, StringComparison.Ordinal));
        Assert.Equal(generated.FinishReason == FinishReason.Length ? ChatFinishReason.Length : ChatFinishReason.Stop, whole.Value.FinishReason);
        Assert.Equal(expected.Context.TokenCount, whole.Value.Usage.InputTokenCount);
        Assert.Equal(generated.TokenIds.Count, whole.Value.Usage.OutputTokenCount);
        Assert.Equal(expected.Context.TokenCount + generated.TokenIds.Count, whole.Value.Usage.TotalTokenCount);
        Assert.Equal("kb:docs", whole.Value.Model);

        using var raw = JsonDocument.Parse(whole.GetRawResponse().Content.ToString());
        var citations = raw.RootElement.GetProperty("citations").EnumerateArray().ToList();
        Assert.Equal(expected.Citations.Select(c => (c.Number, c.Source, c.Cited)), citations.Select(c => (c.GetProperty("number").GetInt32(), c.GetProperty("source").GetString()!, c.GetProperty("cited").GetBoolean())));

        var streamed = new StringBuilder();
        var updates = new List<StreamingChatCompletionUpdate>();
        await foreach (var update in chat.CompleteChatStreamingAsync(messages, options, Token))
        {
            updates.Add(update);
            foreach (var part in update.ContentUpdate)
            {
                streamed.Append(part.Text);
            }
        }

        Assert.Equal(content, streamed.ToString());
        Assert.True(updates.Count(u => u.ContentUpdate.Count > 0) >= 2, "the answer and its sources come as separate deltas");
        Assert.Equal(whole.Value.FinishReason, Assert.Single(updates, u => u.FinishReason is not null).FinishReason);
        // The client asks for the usage (stream_options.include_usage): it comes in the last update.
        var usage = updates[^1].Usage;
        Assert.NotNull(usage);
        Assert.Equal((whole.Value.Usage.InputTokenCount, whole.Value.Usage.OutputTokenCount, whole.Value.Usage.TotalTokenCount), (usage.InputTokenCount, usage.OutputTokenCount, usage.TotalTokenCount));
    }

    [Fact]
    public async Task TheStreamIsOpenAisChunksWithCitationsUsageAndDone()
    {
        await this._server.IndexAsync("docs", ("a.md", "The merged attention joins self and cross attention in one softmax."));
        using var http = this._server.ClientWithKey(this._server.CreateKey("reader", ApiKeyRole.Reader, "docs"));
        var body = new { model = "kb:docs", messages = new object[] { new { role = "user", content = new object[] { new { type = "text", text = Question } } } }, stream = true, stream_options = new { include_usage = true }, max_tokens = 6, logprobs = false, tools = Array.Empty<object>() };

        using var response = await http.PostAsJsonAsync("/v1/chat/completions", body, Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        string[] events = (await response.Content.ReadAsStringAsync(Token)).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.All(events, e => Assert.StartsWith("data: ", e, StringComparison.Ordinal));
        Assert.Equal("data: [DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e["data: ".Length..]).RootElement).ToList();
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString()));
        Assert.Single(chunks.Select(c => c.GetProperty("id").GetString()).Distinct());
        Assert.Equal("assistant", chunks[0].GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());

        var last = chunks.Single(c => c.GetProperty("choices").GetArrayLength() == 1 && c.GetProperty("choices")[0].GetProperty("finish_reason").ValueKind == JsonValueKind.String);
        Assert.Equal("a.md", last.GetProperty("citations")[0].GetProperty("source").GetString());
        var usage = chunks[^1];
        Assert.Equal(0, usage.GetProperty("choices").GetArrayLength());
        Assert.Equal(
            usage.GetProperty("usage").GetProperty("prompt_tokens").GetInt32() + usage.GetProperty("usage").GetProperty("completion_tokens").GetInt32(),
            usage.GetProperty("usage").GetProperty("total_tokens").GetInt32());
        Assert.InRange(usage.GetProperty("usage").GetProperty("completion_tokens").GetInt32(), 1, 6);
    }

    [Fact]
    public async Task TheGeneratorsOwnIdAnswersTheConversationWithoutRetrievalAndSamplesAsAsked()
    {
        var generator = this._server.Collections.Generator!;
        var chat = this.Client(this._server.CreateKey("reader", ApiKeyRole.Reader, "docs")).GetChatClient(this._server.Collections.GeneratorModelId!);
        ChatMessage[] messages = [new SystemChatMessage("You are terse."), new UserChatMessage("Name a colour.")];

        var whole = await chat.CompleteChatAsync(messages, new ChatCompletionOptions { MaxOutputTokenCount = 8 }, Token);
        var expected = await generator.GenerateAsync("You are terse.\nName a colour.", new GenerationOptions { MaxNewTokens = 8 }, Token);
        Assert.Equal(expected.Text, whole.Value.Content[0].Text);
        Assert.Equal(expected.InputTokenCount, whole.Value.Usage.InputTokenCount);
        Assert.Equal(expected.TokenIds.Count, whole.Value.Usage.OutputTokenCount);
        Assert.DoesNotContain("Sources:", whole.Value.Content[0].Text, StringComparison.Ordinal);

        string streamed = string.Concat((await chat.CompleteChatStreamingAsync(messages, new ChatCompletionOptions { MaxOutputTokenCount = 8 }, Token).ToListAsync(Token)).SelectMany(u => u.ContentUpdate).Select(p => p.Text));
        Assert.Equal(expected.Text, streamed);

        // temperature, top_p and seed are the generator's sampling settings.
        var sampling = new ChatCompletionOptions { MaxOutputTokenCount = 8, Temperature = 0.9f, TopP = 0.8f };
#pragma warning disable OPENAI001 // Seed is experimental in the client.
        sampling.Seed = 7;
#pragma warning restore OPENAI001
        var sampled = await chat.CompleteChatAsync(messages, sampling, Token);
        var expectedSample = await generator.GenerateAsync("You are terse.\nName a colour.", new GenerationOptions { MaxNewTokens = 8, Sample = true, Temperature = 0.9f, TopP = 0.8f, Seed = 7 }, Token);
        Assert.Equal(expectedSample.Text, sampled.Value.Content[0].Text);
    }

    [Fact]
    public async Task ModelsListTheGeneratorBesideTheEmbeddingModel()
    {
        using var server = new KnowledgeBaseServerFactory(o => o.GeneratorModelDirectory = this._server.Options.GeneratorModelDirectory);
        await server.IndexAsync("docs", ("a.md", "Docs text."));
        var models = (await OpenAiEmbeddingsTests.Client(server, server.CreateKey("reader", ApiKeyRole.Reader, "docs")).GetOpenAIModelClient().GetModelsAsync(Token)).Value;
        Assert.Equal([server.Collections.EmbeddingModelId, server.Collections.GeneratorModelId, "kb:docs"], models.Select(m => m.Id));

        // One model that embeds and answers is listed once.
        await this._server.IndexAsync("docs", ("a.md", "Docs text."));
        var shared = (await this.Client(this._server.CreateKey("reader", ApiKeyRole.Reader, "docs")).GetOpenAIModelClient().GetModelsAsync(Token)).Value;
        Assert.Equal([this._server.Collections.GeneratorModelId, "kb:docs"], shared.Select(m => m.Id));
    }

    [Fact]
    public async Task KeysAreTheCeilingForKbModels()
    {
        await this._server.IndexAsync("docs", ("a.md", "Docs text."));
        await this._server.IndexAsync("secret", ("s.md", "The launch code is in the vault."));
        var messages = new ChatMessage[] { new UserChatMessage(Question) };
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 2 };
        string reader = this._server.CreateKey("docs-reader", ApiKeyRole.Reader, "docs");

        var wrongKey = await Assert.ThrowsAsync<ClientResultException>(() => this.Client("t5rag_wrong").GetChatClient("kb:docs").CompleteChatAsync(messages, options, Token));
        Assert.Equal(401, wrongKey.Status);

        var other = await Assert.ThrowsAsync<ClientResultException>(() => this.Client(reader).GetChatClient("kb:secret").CompleteChatAsync(messages, options, Token));
        var none = await Assert.ThrowsAsync<ClientResultException>(() => this.Client(reader).GetChatClient("kb:nothing").CompleteChatAsync(messages, options, Token));
        Assert.Equal(404, other.Status);
        Assert.Equal(404, none.Status);
        Assert.Equal(none.Message.Replace("nothing", "X", StringComparison.Ordinal), other.Message.Replace("secret", "X", StringComparison.Ordinal));
        Assert.DoesNotContain("vault", other.GetRawResponse()!.Content.ToString(), StringComparison.Ordinal);
        foreach (string spelled in new[] { "kb:SECRET", "kb:../secret", "kb:secret/", "kb:" })
        {
            var refused = await Assert.ThrowsAsync<ClientResultException>(() => this.Client(reader).GetChatClient(spelled).CompleteChatAsync(messages, options, Token));
            Assert.Equal(404, refused.Status);
        }

        var streamed = await Assert.ThrowsAsync<ClientResultException>(async () => await this.Client(reader).GetChatClient("kb:secret").CompleteChatStreamingAsync(messages, options, Token).ToListAsync(Token));
        Assert.Equal(404, streamed.Status);

        var answer = await this.Client(reader).GetChatClient("kb:docs").CompleteChatAsync(messages, options, Token);
        Assert.Contains("a.md", answer.Value.Content[0].Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadChatRequestsAreOpenAiErrorsThatNameTheParameter()
    {
        await this._server.IndexAsync("docs", ("a.md", "Docs text."));
        await this._server.Collections.OpenOrCreateAsync("empty", Token);
        using var http = this._server.ClientWithKey(this._server.CreateKey("reader", ApiKeyRole.Reader, "docs", "empty"));
        string user = "[{\"role\": \"user\", \"content\": \"What is in the docs?\"}]";
        (string Body, HttpStatusCode Status, string? Param)[] cases =
        [
            ("{\"model\": \"kb:docs\", \"messages\": []}", HttpStatusCode.BadRequest, "messages"),
            ("{\"model\": \"kb:docs\", \"messages\": [{\"role\": \"system\", \"content\": \"Be brief.\"}]}", HttpStatusCode.BadRequest, "messages"),
            ("{\"model\": \"kb:docs\", \"messages\": [{\"role\": \"user\", \"content\": \"  \"}]}", HttpStatusCode.BadRequest, "messages[0].content"),
            ("{\"model\": \"kb:docs\", \"messages\": [{\"role\": \"wizard\", \"content\": \"x\"}]}", HttpStatusCode.BadRequest, "messages[0].role"),
            ("{\"model\": \"kb:docs\", \"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"image_url\", \"image_url\": {\"url\": \"file:///etc/passwd\"}}]}]}", HttpStatusCode.BadRequest, "messages[0].content[0]"),
            ($"{{\"model\": \"kb:docs\", \"messages\": {user}, \"n\": 2}}", HttpStatusCode.BadRequest, "n"),
            ($"{{\"model\": \"kb:docs\", \"messages\": {user}, \"temperature\": 3}}", HttpStatusCode.BadRequest, "temperature"),
            ($"{{\"model\": \"kb:docs\", \"messages\": {user}, \"top_p\": 0}}", HttpStatusCode.BadRequest, "top_p"),
            ($"{{\"model\": \"kb:docs\", \"messages\": {user}, \"max_tokens\": 0}}", HttpStatusCode.BadRequest, "max_tokens"),
            ($"{{\"model\": \"kb:docs\", \"messages\": {user}, \"max_completion_tokens\": 100000}}", HttpStatusCode.BadRequest, "max_completion_tokens"),
            ($"{{\"model\": \"kb:docs\", \"messages\": {user}, \"stop\": [1]}}", HttpStatusCode.BadRequest, "stop"),
            ($"{{\"model\": \"kb:docs\", \"messages\": {user}, \"top\": 0}}", HttpStatusCode.BadRequest, "top"),
            ($"{{\"model\": \"kb:docs\", \"messages\": {user}, \"temperature\": \"hot\"}}", HttpStatusCode.BadRequest, "$.temperature"),
            ($"{{\"messages\": {user}}}", HttpStatusCode.BadRequest, "model"),
            ($"{{\"model\": \"gpt-4o\", \"messages\": {user}}}", HttpStatusCode.NotFound, "model"),
            ($"{{\"model\": \"kb:empty\", \"messages\": {user}}}", (HttpStatusCode)422, null),
            ($"{{\"model\": \"kb:docs\", \"messages\": {user}, \"stream\": true, \"budget\": 10}}", HttpStatusCode.BadRequest, "budget"),
            ($"{{\"model\": \"kb:empty\", \"messages\": {user}, \"stream\": true}}", (HttpStatusCode)422, null),
        ];
        foreach (var (body, status, param) in cases)
        {
            var response = await http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"), Token);
            string text = await response.Content.ReadAsStringAsync(Token);
            Assert.True(status == response.StatusCode, $"{body}: {response.StatusCode} {text}");
            using var json = JsonDocument.Parse(text);
            var error = json.RootElement.GetProperty("error");
            Assert.Equal(param, error.GetProperty("param").GetString());
            Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        }

        // The server goes on.
        Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("/v1/chat/completions", new StringContent($"{{\"model\": \"kb:docs\", \"messages\": {user}, \"max_tokens\": 2}}", Encoding.UTF8, "application/json"), Token)).StatusCode);
    }

    private OpenAI.OpenAIClient Client(string key) => OpenAiEmbeddingsTests.Client(this._server, key);
}
