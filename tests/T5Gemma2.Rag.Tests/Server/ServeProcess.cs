using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Server;

/// <summary>
/// <c>t5rag serve</c> in a child process on a free loopback port, over a given store with the real MiniLM model: for
/// what only a real process shows (a SIGKILL in the middle of a job or an upload, and the restart after it).
/// </summary>
internal sealed class ServeProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ServeProcess(Process process, Uri address)
    {
        this._process = process;
        this.Client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromMinutes(5) };
        process.OutputDataReceived += (_, line) => this.Append(line.Data);
        process.ErrorDataReceived += (_, line) => this.Append(line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>A client of the server (keyless: the server has no key, and the client is on loopback).</summary>
    public HttpClient Client { get; }

    /// <summary>What the server wrote so far, for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (this._output)
            {
                return this._output.ToString();
            }
        }
    }

    /// <summary>Starts the server and waits until it is ready (/readyz); fails with its output if it exits or is not ready in a minute.</summary>
    /// <param name="store">The store directory.</param>
    /// <param name="anyAddress">Listen on 0.0.0.0 rather than loopback (the client still calls it on loopback).</param>
    /// <param name="environment">Variables for the process (<c>T5Rag__MaxQueuedJobs</c> sets an option the flags do not).</param>
    /// <param name="arguments">More arguments for <c>t5rag serve</c>.</param>
    public static async Task<ServeProcess> StartAsync(string store, bool anyAddress = false, IReadOnlyDictionary<string, string>? environment = null, params string[] arguments)
    {
        int port = FreePort();
        var server = new ServeProcess(
            T5ragProcess.Start(["serve", "--model", TestAssets.MiniLmDirectory, "--store", store, "--urls", $"http://{(anyAddress ? "0.0.0.0" : "127.0.0.1")}:{port}", .. arguments], environment),
            new Uri($"http://127.0.0.1:{port}"));
        var clock = Stopwatch.StartNew();
        while (true)
        {
            Assert.False(server._process.HasExited, $"t5rag serve exited {(server._process.HasExited ? server._process.ExitCode : 0)}: {server.Output}");
            try
            {
                using var ready = await server.Client.GetAsync("/readyz", TestContext.Current.CancellationToken);
                if (ready.StatusCode == HttpStatusCode.OK)
                {
                    return server;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(1), $"t5rag serve was not ready in a minute: {server.Output}");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>SIGKILL: no shutdown, no flush, no finally — what a crash or the OOM killer does.</summary>
    public void Kill()
    {
        this._process.Kill(entireProcessTree: true);
        this._process.WaitForExit();
    }

    public void Dispose()
    {
        if (!this._process.HasExited)
        {
            this.Kill();
        }

        this.Client.Dispose();
        this._process.Dispose();
    }

    /// <summary>A loopback port nothing listens on now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (this._output)
            {
                this._output.AppendLine(line);
            }
        }
    }
}
