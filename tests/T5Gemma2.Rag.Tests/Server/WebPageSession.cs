using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace T5Gemma2.Rag.Tests.Server;

/// <summary>
/// One browser context on the web page, watching what the page must never do: a request to any host but the server
/// (routed to an abort and recorded), a Content-Security-Policy violation, an uncaught script error.
/// </summary>
public sealed class WebPageSession : IAsyncDisposable
{
    private readonly IBrowserContext _context;
    private readonly List<string> _foreign = [];
    private readonly List<string> _errors = [];

    private WebPageSession(IBrowserContext context, IPage page)
    {
        this._context = context;
        this.Page = page;
    }

    public IPage Page { get; }

    /// <summary>A locator by element id.</summary>
    public ILocator this[string id] => this.Page.Locator($"#{id}");

    public static async Task<WebPageSession> OpenAsync(IBrowserContext context, Uri server)
    {
        // A slow CI machine (two cores, the models running beside the browser) gets time; a failing wait still fails.
        SetDefaultExpectTimeout(30_000);
        context.SetDefaultTimeout(30_000);
        var page = await context.NewPageAsync();
        var session = new WebPageSession(context, page);
        await context.RouteAsync(url => IsElsewhere(url, server), async route =>
        {
            lock (session._foreign)
            {
                session._foreign.Add(route.Request.Url);
            }

            await route.AbortAsync();
        });
        page.PageError += (_, error) =>
        {
            lock (session._errors)
            {
                session._errors.Add($"script error: {error}");
            }
        };

        // Added by the browser's protocol, not the page, so the policy does not apply to it.
        await context.AddInitScriptAsync("document.addEventListener('securitypolicyviolation', e => (window.__cspViolations ??= []).push(e.violatedDirective + ' ' + e.blockedURI));");
        await page.GotoAsync("/");
        return session;
    }

    /// <summary>Signs in with the key (the empty key: none) and waits until the page says which way it went.</summary>
    public async Task SignInAsync(string key)
    {
        await this["api-key"].FillAsync(key);
        await this.Page.Locator("#sign-in button[type=submit]").ClickAsync();
        await this.Page.WaitForFunctionAsync("() => !document.getElementById('main').hidden || document.getElementById('sign-in-error').textContent !== ''");
    }

    /// <summary>Picks the collection in the picker, waiting for it to be listed.</summary>
    public async Task PickCollectionAsync(string name)
    {
        await Expect(this.Page.Locator($"#collection option[value='{name}']")).ToHaveCountAsync(1);
        await this["collection"].SelectOptionAsync(name);
        await Expect(this["documents-status"]).Not.ToBeEmptyAsync();
    }

    /// <summary>Drops files on the drop zone as a file manager would: dragenter, dragover, drop, with a DataTransfer holding them.</summary>
    public async Task DropFilesAsync(params (string Name, byte[] Content)[] files)
    {
        var transfer = await this.Page.EvaluateHandleAsync(
            """
            files => {
              const transfer = new DataTransfer();
              for (const file of files) {
                const bytes = Uint8Array.from(atob(file.content), c => c.charCodeAt(0));
                transfer.items.add(new File([bytes], file.name));
              }
              return transfer;
            }
            """,
            files.Select(f => new { name = f.Name, content = Convert.ToBase64String(f.Content) }).ToArray());
        var zone = this["drop-zone"];
        foreach (string type in new[] { "dragenter", "dragover", "drop" })
        {
            await zone.DispatchEventAsync(type, new { dataTransfer = transfer });
        }
    }

    /// <summary>Whether the page is wider than its viewport (it would scroll sideways).</summary>
    public Task<bool> ScrollsSidewaysAsync() =>
        this.Page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth > document.documentElement.clientWidth");

    /// <summary>Asserts that no request went to another host, no policy was violated and no script error was thrown.</summary>
    public async Task AssertWellBehavedAsync()
    {
        string[] violations = await this.Page.EvaluateAsync<string[]>("() => window.__cspViolations ?? []");
        lock (this._foreign)
        {
            Assert.True(this._foreign.Count == 0, $"requests to other hosts: {string.Join(", ", this._foreign)}");
        }

        Assert.True(violations.Length == 0, $"Content-Security-Policy violations: {string.Join(", ", violations)}");
        lock (this._errors)
        {
            Assert.True(this._errors.Count == 0, string.Join("\n", this._errors));
        }
    }

    public async ValueTask DisposeAsync() => await this._context.CloseAsync();

    /// <summary>A request to a host other than the server's (data: and blob: URLs go nowhere).</summary>
    private static bool IsElsewhere(string url, Uri server) =>
        !Uri.TryCreate(url, UriKind.Absolute, out var uri)
        || (uri.Scheme is not ("data" or "blob") && !uri.GetLeftPart(UriPartial.Authority).Equals(server.GetLeftPart(UriPartial.Authority), StringComparison.OrdinalIgnoreCase));
}
