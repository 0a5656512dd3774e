using System.Net;
using System.Net.Http.Headers;
using T5Gemma2.Rag.Tests.Cli;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Server;

/// <summary><c>t5rag serve</c> and <c>t5rag keys</c> as real processes: the loopback rule, keys made by the CLI honoured by the server.</summary>
public sealed class ServeCommandTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => this._temp.Dispose();

    [Fact]
    public async Task WithoutAKeyTheServerRefusesToListenBeyondLoopback()
    {
        int port = ServeProcess.FreePort();
        using var process = CliRunner.StartProcess("serve", "--model", TestAssets.MiniLmDirectory, "--store", this._temp.Combine("store"), "--urls", $"http://0.0.0.0:{port}");
        var (code, _, error) = await T5ragProcess.FinishAsync(process, TimeSpan.FromMinutes(1));
        Assert.Equal(2, code);
        Assert.Contains("refusing to listen on", error, StringComparison.Ordinal);
        Assert.Contains("t5rag keys create", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeysMadeByTheCliAreTheOnlyWayInOnceTheyExistAndRevokingOneShutsItOut()
    {
        string store = this._temp.Combine("store");
        var (created, key, createError) = await CliRunner.RunAsync("keys", "create", "--store", store, "--name", "ops", "--collections", "*", "--role", "admin");
        Assert.True(created == 0, createError);
        key = key.Trim();
        Assert.StartsWith("t5rag_", key, StringComparison.Ordinal);
        Assert.Equal(2, (await CliRunner.RunAsync("keys", "create", "--store", store, "--name", "ops", "--collections", "*")).ExitCode);
        Assert.Equal(2, (await CliRunner.RunAsync("keys", "create", "--store", store, "--name", "bad", "--collections", "a/../b")).ExitCode);

        var (listed, table, _) = await CliRunner.RunAsync("keys", "list", "--store", store);
        Assert.Equal(0, listed);
        Assert.Contains("ops", table, StringComparison.Ordinal);
        Assert.DoesNotContain(key, table, StringComparison.Ordinal);
        Assert.DoesNotContain(key, await File.ReadAllTextAsync(Path.Combine(store, "service.db"), TestContext.Current.CancellationToken), StringComparison.Ordinal);

        using var server = await ServeProcess.StartAsync(store, anyAddress: true, null, "--threads", "1");
        var client = server.Client;
        var ct = TestContext.Current.CancellationToken;
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/collections", ct)).StatusCode);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        Assert.Equal(HttpStatusCode.Created, (await client.PutAsync("/api/collections/docs", null, ct)).StatusCode);

        Assert.Equal(0, (await CliRunner.RunAsync("keys", "revoke", "--store", store, "ops")).ExitCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/collections", ct)).StatusCode);
        Assert.Equal(2, (await CliRunner.RunAsync("keys", "revoke", "--store", store, "ops")).ExitCode);
    }
}
