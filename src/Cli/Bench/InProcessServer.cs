using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using T5Gemma2.Rag.Cli.Console;
using T5Gemma2.Rag.Cli.Logging;
using T5Gemma2.Rag.Server.Collections;
using T5Gemma2.Rag.Server.Hosting;

namespace T5Gemma2.Rag.Cli.Bench;

/// <summary>
/// The knowledge-base service as <c>t5rag serve</c> runs it (<see cref="KnowledgeBaseServer.CreateBuilder"/> and
/// <see cref="KnowledgeBaseServer.RunAsync"/>), in this process on a free loopback port, for <c>bench serve --start</c>:
/// the benchmark's clients still reach it over real HTTP, and its memory is this process's.
/// </summary>
internal sealed class InProcessServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly CancellationTokenSource _stop;
    private readonly Task _running;

    private InProcessServer(WebApplication app, CancellationTokenSource stop, Task running, Uri address)
    {
        this._app = app;
        this._stop = stop;
        this._running = running;
        this.Address = address;
    }

    /// <summary>Where it listens: http://127.0.0.1:&lt;port&gt;.</summary>
    public Uri Address { get; }

    /// <summary>Its models, store and collections, for preparing the benchmark's collection in process.</summary>
    public KnowledgeBaseCollections Collections => this._app.Services.GetRequiredService<KnowledgeBaseCollections>();

    /// <summary>Loads the models, opens the store and listens; returns once requests are answered.</summary>
    public static async Task<InProcessServer> StartAsync(CliConsole console, KnowledgeBaseServerOptions options, CancellationToken cancellationToken)
    {
        var builder = KnowledgeBaseServer.CreateBuilder([]);

        // These options, not the ones bound from configuration (the last registration is the one resolved).
        builder.Services.AddSingleton(options);

        // Port 0: the system picks a free one, read back once the server has bound it.
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders().AddProvider(new CliLoggerProvider(console.Error)).SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build().UseKnowledgeBaseServer();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = app.Lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        var stop = new CancellationTokenSource();

        // RunAsync loads the models before it listens: off this thread, so the status line shows while it does.
        var running = Task.Run(() => KnowledgeBaseServer.RunAsync(app, stop.Token), CancellationToken.None);
        try
        {
            await Task.WhenAny(started.Task, running).WaitAsync(cancellationToken);
            if (running.IsCompleted)
            {
                await running; // a startup failure: its exception, as t5rag serve would show it
            }

            string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return new InProcessServer(app, stop, running, new Uri(address));
        }
        catch
        {
            await stop.CancelAsync();
            await Task.WhenAny(running);
            await app.DisposeAsync();
            stop.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await this._stop.CancelAsync();
        try
        {
            await this._running;
        }
        catch (OperationCanceledException)
        {
            // Stopped as asked.
        }

        await this._app.DisposeAsync();
        this._stop.Dispose();
    }
}
