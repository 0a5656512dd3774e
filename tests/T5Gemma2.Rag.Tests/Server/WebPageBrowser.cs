using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using T5Gemma2.Rag.Server.Security;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Server;

/// <summary>
/// What the web page's tests share: one knowledge-base server listening on a loopback port (Kestrel, since a browser
/// cannot reach the in-memory test server) with the real MiniLM model and the tiny random T5Gemma 2 generator, an admin
/// key, and one headless Chromium (Debian's, which .ci/run installs) driven by Microsoft.Playwright. Where no Chromium
/// is installed nothing starts, and each test skips with one line saying why.
/// </summary>
public sealed class WebPageBrowser(SharedTinyT5Gemma2 tiny) : IAsyncLifetime
{
    /// <summary>Names a Chromium (or Chrome) binary to use instead of the usual places.</summary>
    public const string ChromiumVariable = "CHROMIUM_PATH";

    private static readonly string[] s_chromiumPaths = ["/usr/bin/chromium", "/usr/lib/chromium/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

    private KnowledgeBaseServerFactory? _server;
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    /// <summary>Why the tests cannot run here, or null when they can.</summary>
    public string? SkipReason { get; private set; }

    internal KnowledgeBaseServerFactory Server => this._server ?? throw new InvalidOperationException(this.SkipReason);

    /// <summary>Where the server listens: http://127.0.0.1:&lt;port&gt;/.</summary>
    public Uri Address { get; private set; } = new("http://127.0.0.1/");

    /// <summary>An admin key of the server (every collection).</summary>
    public string AdminKey { get; private set; } = "";

    public async ValueTask InitializeAsync()
    {
        if (FindChromium() is not { } chromium)
        {
            this.SkipReason = $"skipped: no Chromium at {ChromiumVariable} or {string.Join(", ", s_chromiumPaths)} (.ci/run installs Debian's: apt-get install -y chromium)";
            return;
        }

        (this._server, this.Address) = Listen(new KnowledgeBaseServerFactory(options => options.GeneratorModelDirectory = tiny.ConvertedDirectory));
        this.AdminKey = this._server.CreateKey("web-page", ApiKeyRole.Admin, ApiKey.AllCollections);

        this._playwright = await Playwright.CreateAsync();

        // Chromium's sandbox refuses to start as root (CI containers): only there is it turned off.
        this._browser = await this._playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            Args = Environment.UserName == "root" ? ["--no-sandbox"] : [],
        });
    }

    /// <summary>Skips the calling test, with the reason, where no browser could be started.</summary>
    public void SkipUnlessReady()
    {
        if (this.SkipReason is { } reason)
        {
            Assert.Skip(reason);
        }
    }

    /// <summary>Starts the server listening on a free loopback port; returns it and its address.</summary>
    internal static (KnowledgeBaseServerFactory Server, Uri Address) Listen(KnowledgeBaseServerFactory server)
    {
        server.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        server.StartServer();
        string address = server.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return (server, new Uri(address.TrimEnd('/') + "/"));
    }

    /// <summary>A new browser context (its own sessionStorage) on the page of the shared server, or of <paramref name="server"/>.</summary>
    public async Task<WebPageSession> OpenAsync(int width = 1100, int height = 900, Uri? server = null)
    {
        server ??= this.Address;
        var context = await this._browser!.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = server.ToString(),
            ViewportSize = new ViewportSize { Width = width, Height = height },
        });
        return await WebPageSession.OpenAsync(context, server);
    }

    public async ValueTask DisposeAsync()
    {
        if (this._browser is not null)
        {
            await this._browser.CloseAsync();
        }

        this._playwright?.Dispose();
        this._server?.Dispose();
    }

    private static string? FindChromium() =>
        Environment.GetEnvironmentVariable(ChromiumVariable) is { Length: > 0 } given ? (File.Exists(given) ? given : null)
        : s_chromiumPaths.FirstOrDefault(File.Exists);
}
