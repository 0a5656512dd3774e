using Microsoft.Playwright;
using T5Gemma2.Rag.Server.Security;
using T5Gemma2.Rag.Tests.Loading;
using static Microsoft.Playwright.Assertions;

namespace T5Gemma2.Rag.Tests.Server;

/// <summary>
/// The knowledge-base page at <c>/</c> in a real browser (headless Chromium through Microsoft.Playwright) against a
/// real listening server: signing in (and a wrong key), drag-and-drop upload and its job's progress, ask with the
/// answer streaming and citations that open their passage, search, documents listed and deleted, keyboard use, a
/// phone-sized screen, untrusted document text shown as text, and no request to any other host.
/// Set <c>WEB_PAGE_SCREENSHOT=&lt;file.png&gt;</c> to have the upload-and-ask test save the picture the README shows.
/// </summary>
public sealed class WebPageTests(WebPageBrowser browser) : IClassFixture<WebPageBrowser>
{
    private const string ScreenshotVariable = "WEB_PAGE_SCREENSHOT";

    [Fact]
    public async Task AWrongKeyIsRefusedVisiblyAndShowsNothingUntilTheRightOneListsTheCollections()
    {
        browser.SkipUnlessReady();
        await browser.Server.IndexAsync("payroll-secrets", ("salaries.md", "Salaries are paid on the 25th."));
        await using var session = await browser.OpenAsync();

        await session.SignInAsync("t5rag_" + new string('x', 40));
        await Expect(session["sign-in-error"]).ToContainTextAsync("not valid");
        await Expect(session["main"]).ToBeHiddenAsync();
        Assert.DoesNotContain("payroll-secrets", await session.Page.ContentAsync(), StringComparison.Ordinal);
        Assert.Null(await session.Page.EvaluateAsync<string?>("() => sessionStorage.getItem('t5rag.key')"));

        await session.SignInAsync(browser.AdminKey);
        await Expect(session["main"]).ToBeVisibleAsync();
        await Expect(session["sign-in-error"]).ToBeEmptyAsync();
        await Expect(session.Page.Locator("#collection option[value='payroll-secrets']")).ToHaveTextAsync("payroll-secrets (1 document)");

        // Kept for the tab (a reload stays signed in), never in the address, and gone on sign-out.
        Assert.Equal(browser.AdminKey, await session.Page.EvaluateAsync<string?>("() => sessionStorage.getItem('t5rag.key')"));
        Assert.Null(await session.Page.EvaluateAsync<string?>("() => localStorage.getItem('t5rag.key')"));
        await session.Page.ReloadAsync();
        await Expect(session.Page.Locator("#collection option[value='payroll-secrets']")).ToHaveCountAsync(1);
        Assert.DoesNotContain(browser.AdminKey, session.Page.Url, StringComparison.Ordinal);
        await session["sign-out"].ClickAsync();
        await Expect(session["main"]).ToBeHiddenAsync();
        Assert.Null(await session.Page.EvaluateAsync<string?>("() => sessionStorage.getItem('t5rag.key')"));
        Assert.Equal(0, await session.Page.Locator("#collection option").CountAsync());
        await session.AssertWellBehavedAsync();
    }

    [Fact]
    public async Task ALocalServerWithNoKeyYetTakesTheEmptyKeyUntilAKeyIsMade()
    {
        browser.SkipUnlessReady();
        var (local, address) = WebPageBrowser.Listen(new KnowledgeBaseServerFactory());
        using var server = local;
        await server.IndexAsync("notes", ("todo.md", "Water the plants."));
        await using var session = await browser.OpenAsync(server: address);

        // The page's own requests are same-origin on loopback: the local operator, as curl on the same machine is.
        await session.SignInAsync("");
        await Expect(session["signed-in-as"]).ToHaveTextAsync("Signed in without a key (local server).");
        await Expect(session.Page.Locator("#collection option[value='notes']")).ToHaveCountAsync(1);

        // Once a key exists, nobody gets in without one: the reload signs in again without a key and is refused.
        server.CreateKey("first", ApiKeyRole.Admin, ApiKey.AllCollections);
        await session.Page.ReloadAsync();
        await Expect(session["sign-in-error"]).ToContainTextAsync("needs an API key");
        await Expect(session["main"]).ToBeHiddenAsync();
        await session.AssertWellBehavedAsync();
    }

    [Fact]
    public async Task AChatModelThatFailsMidStreamIsShownAsTheServersReason()
    {
        browser.SkipUnlessReady();
        await using var model = await ScriptedChatServer.StartAsync();
        model.FailWith = 503;
        var (failing, address) = WebPageBrowser.Listen(new KnowledgeBaseServerFactory(options => options.Answerer = $"openai:{model.Address}v1?model=gpt-down"));
        using var server = failing;
        await server.IndexAsync("notes", ("pump.md", "Prime the pump before it starts."));
        await using var session = await browser.OpenAsync(server: address);
        await session.SignInAsync("");

        await session["question"].FillAsync("How is the pump primed?");
        await session["question"].PressAsync("Enter");

        // The stream began (the passages came), then the model failed: the page says so and stops waiting.
        await Expect(session["ask-error"]).ToContainTextAsync("Answerer unavailable: the chat model 'gpt-down' failed (HTTP 503)");
        await Expect(session["ask-status"]).ToBeEmptyAsync();
        Assert.NotEmpty(model.Requests); // the OpenAI client retries a 503 before it gives up
        await session.AssertWellBehavedAsync();
    }

    [Fact]
    public async Task FilesDroppedShowTheirJobsProgressThenAnAnswerStreamsWithCitationsThatOpenTheirPassage()
    {
        browser.SkipUnlessReady();
        await using var session = await browser.OpenAsync(1100, 1000);
        await session.SignInAsync(browser.AdminKey);
        await session.Page.Locator("details.new-collection summary").ClickAsync();
        await session["new-collection"].FillAsync("handbook");
        await session.Page.Locator("#create-collection button").ClickAsync();
        await Expect(session["collection"]).ToHaveValueAsync("handbook");

        // Every state the job's line shows, in order, recorded as the page changes it.
        await session.Page.EvaluateAsync(
            """
            () => {
              window.__jobStates = [];
              new MutationObserver(() => {
                const state = document.querySelector('#jobs li')?.dataset.state;
                if (state && window.__jobStates.at(-1) !== state) window.__jobStates.push(state);
              }).observe(document.getElementById('jobs'), { subtree: true, childList: true, attributes: true });
            }
            """);
        await session.DropFilesAsync(
            ("field-manual.pdf", PdfLoaderTests.BuildPdf("Field manual", ["Wear safety goggles in the workshop at all times."], ["The pump must be primed before it starts.", "Prime the pump by opening the bleed valve until water runs."])),
            Uploads.Text("passwords.md", "# Passwords\n\nTo reset a password, open Settings, choose Security and press Reset. The reset link arrives by mail within five minutes."),
            Uploads.Text("vpn.txt", "The VPN client is installed from the software centre. Connect with your staff account before opening the wiki."));

        var job = session.Page.Locator("#jobs li").First;
        await Expect(job).ToHaveAttributeAsync("data-state", "succeeded");
        await Expect(job).ToContainTextAsync("3 files: field-manual.pdf, passwords.md, vpn.txt");
        await Expect(job).ToContainTextAsync("3 new documents");
        Assert.Equal(1.0, await job.Locator("progress").EvaluateAsync<double>("bar => bar.value"));
        string[] states = await session.Page.EvaluateAsync<string[]>("() => window.__jobStates");
        Assert.True(states.Length >= 2 && states[0] == "uploading" && states[^1] == "succeeded", string.Join(" → ", states));
        Assert.True(IsInOrder(states, ["uploading", "queued", "running", "succeeded"]), string.Join(" → ", states));
        await Expect(session["collection-info"]).ToContainTextAsync("3 documents");
        await Expect(session.Page.Locator("#documents li")).ToHaveCountAsync(3);

        // By keyboard: Tab from the tags field to the question, type, Enter.
        await session["tags"].FocusAsync();
        for (int i = 0; i < 30 && await session.Page.EvaluateAsync<string>("() => document.activeElement.id") != "question"; i++)
        {
            await session.Page.Keyboard.PressAsync("Tab");
        }

        Assert.Equal("question", await session.Page.EvaluateAsync<string>("() => document.activeElement.id"));
        await session.Page.Locator("#ask details summary").ClickAsync();
        await session["ask-tokens"].FillAsync("24");
        await session["question"].FocusAsync();
        await session.Page.EvaluateAsync(
            """
            () => {
              window.__answerGrowth = [];
              new MutationObserver(records => {
                for (const r of records) if (r.type === 'characterData') window.__answerGrowth.push(r.target.data.length);
              }).observe(document.getElementById('answer'), { subtree: true, characterData: true });
            }
            """);
        await session.Page.Keyboard.TypeAsync("How is the pump primed before it starts?");
        await session.Page.Keyboard.PressAsync("Enter");

        await Expect(session["ask-status"]).ToContainTextAsync("Answered in");
        await Expect(session["ask-error"]).ToBeEmptyAsync();
        int[] growth = await session.Page.EvaluateAsync<int[]>("() => window.__answerGrowth");
        Assert.True(growth.Length >= 2 && growth.Zip(growth.Skip(1)).All(p => p.First <= p.Second) && growth[^1] > 0, $"the answer did not stream in: lengths {string.Join(", ", growth)}");
        Assert.False(string.IsNullOrWhiteSpace(await session["answer"].TextContentAsync()));
        await Expect(session["citations-title"]).ToBeVisibleAsync();
        var manual = session.Page.Locator("#citations li").Filter(new LocatorFilterOptions { HasText = "field-manual.pdf, page 2" });
        await Expect(manual).ToHaveCountAsync(1);
        await Expect(manual).ToContainTextAsync("Field manual");

        var cite = manual.Locator("button");
        string number = (await cite.GetAttributeAsync("data-citation"))!;
        await cite.ClickAsync();
        var dialog = session["passage"];
        await Expect(dialog).ToBeVisibleAsync();
        await Expect(session["passage-title"]).ToHaveTextAsync($"[{number}] field-manual.pdf");
        await Expect(dialog.Locator("dd[data-field=source]")).ToHaveTextAsync("field-manual.pdf");
        await Expect(dialog.Locator("dd[data-field=page]")).ToHaveTextAsync("2");
        await Expect(session["passage-text"]).ToContainTextAsync("The pump must be primed before it starts.");
        Assert.Equal("passage-close", await session.Page.EvaluateAsync<string>("() => document.activeElement.id"));

        await session.Page.Keyboard.PressAsync("Escape");
        await Expect(dialog).ToBeHiddenAsync();
        Assert.Equal(number, await session.Page.EvaluateAsync<string?>("() => document.activeElement.dataset.citation"));

        if (Environment.GetEnvironmentVariable(ScreenshotVariable) is { Length: > 0 } screenshot)
        {
            await session.Page.EvaluateAsync("() => window.scrollTo(0, 0)");
            await session.Page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot, Type = ScreenshotType.Png });
        }

        await session.AssertWellBehavedAsync();
    }

    [Fact]
    public async Task SearchShowsDocumentTextAndNamesAsTextNeverAsMarkup()
    {
        browser.SkipUnlessReady();
        const string hostile = """The launch checklist: <img src=x onerror="window.__xss = 1"> then <script>window.__xss = 2</script> check the fuel.""";
        await browser.Server.IndexAsync("hostile", ("checklist.txt", hostile), ("<b onmouseover=\"window.__xss = 3\">report</b>.txt", "The weekly report lists the launch dates."));
        await using var session = await browser.OpenAsync();
        await session.SignInAsync(browser.AdminKey);
        await session.PickCollectionAsync("hostile");

        await session["query"].FillAsync("launch checklist fuel");
        await session["query"].PressAsync("Enter");
        var first = session.Page.Locator("#results li").First;
        await Expect(first.Locator(".snippet")).ToContainTextAsync("<img src=x onerror=\"window.__xss = 1\">");
        await Expect(first.Locator(".snippet")).ToContainTextAsync("<script>window.__xss = 2</script>");
        await Expect(session.Page.Locator("#documents li[data-document^='<b']")).ToContainTextAsync("<b onmouseover=\"window.__xss = 3\">report</b>.txt");
        await first.GetByRole(AriaRole.Button, new LocatorGetByRoleOptions { Name = "Show passage" }).ClickAsync();
        await Expect(session["passage-text"]).ToHaveTextAsync(hostile);

        Assert.Equal(0, await session.Page.Locator("main img, main script, main b, dialog img, dialog script").CountAsync());
        Assert.True(await session.Page.EvaluateAsync<bool>("() => window.__xss === undefined"));
        await session.AssertWellBehavedAsync();
    }

    [Fact]
    public async Task DocumentsAreListedAnUploadFromTheFilePickerJoinsThemAndOneIsDeleted()
    {
        browser.SkipUnlessReady();
        await browser.Server.IndexAsync("archive", ("old-policy.md", "The old travel policy allowed first class."));
        await using var session = await browser.OpenAsync();
        await session.SignInAsync(browser.AdminKey);
        await session.PickCollectionAsync("archive");
        await Expect(session["documents-status"]).ToHaveTextAsync("1 document.");

        // The drop zone's file input, as the keyboard and the "Choose files" button reach it.
        await session["files"].SetInputFilesAsync(new FilePayload { Name = "new-policy.md", MimeType = "text/markdown", Buffer = "The new travel policy allows economy class only."u8.ToArray() });
        await Expect(session.Page.Locator("#jobs li").First).ToHaveAttributeAsync("data-state", "succeeded");
        await Expect(session.Page.Locator("#documents li")).ToHaveCountAsync(2);
        await Expect(session["documents-status"]).ToHaveTextAsync("2 documents.");

        session.Page.Dialog += (_, confirm) => _ = confirm.AcceptAsync();
        await session.Page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Delete old-policy.md" }).ClickAsync();
        await Expect(session.Page.Locator("#documents li")).ToHaveCountAsync(1);
        await Expect(session.Page.Locator("#documents li")).ToHaveAttributeAsync("data-document", "new-policy.md");
        await Expect(session["collection-info"]).ToContainTextAsync("1 document,");
        await Expect(session["documents-status"]).ToHaveTextAsync("1 document.");
        Assert.Equal("Delete new-policy.md", await session.Page.EvaluateAsync<string?>("() => document.activeElement.getAttribute('aria-label')"));

        using var client = browser.Server.ClientWithKey(browser.AdminKey);
        var documents = await Uploads.DocumentsAsync(client, "archive");
        Assert.Equal(["new-policy.md"], documents.Select(d => d.GetProperty("document_id").GetString()));
        await session.AssertWellBehavedAsync();
    }

    [Fact]
    public async Task OnAPhoneSizedScreenNothingScrollsSideways()
    {
        browser.SkipUnlessReady();
        string longName = string.Concat(Enumerable.Repeat("quarterly-engineering-report-", 6)) + "final.txt";
        await browser.Server.IndexAsync("narrow", (longName, "Supercalifragilisticexpialidocious" + new string('x', 120) + " is the word of the quarter."));
        await using var session = await browser.OpenAsync(375, 740);
        Assert.False(await session.ScrollsSidewaysAsync(), "the sign-in screen scrolls sideways at 375 px");

        await session.SignInAsync(browser.AdminKey);
        await session.PickCollectionAsync("narrow");
        await Expect(session.Page.Locator("#documents li")).ToHaveCountAsync(1);
        await session["query"].FillAsync("word of the quarter");
        await session["query"].PressAsync("Enter");
        await Expect(session.Page.Locator("#results li")).Not.ToHaveCountAsync(0);
        Assert.False(await session.ScrollsSidewaysAsync(), "the page with results scrolls sideways at 375 px");

        await session.Page.Locator("#results li button").First.ClickAsync();
        await Expect(session["passage"]).ToBeVisibleAsync();
        Assert.True(await session["passage"].EvaluateAsync<bool>("d => d.getBoundingClientRect().right <= window.innerWidth"), "the passage dialog is wider than the screen");
        Assert.False(await session.ScrollsSidewaysAsync(), "the open passage scrolls sideways at 375 px");
        await session.AssertWellBehavedAsync();
    }

    /// <summary>Whether <paramref name="seen"/> follows <paramref name="order"/> (each one later in it than the one before).</summary>
    private static bool IsInOrder(string[] seen, string[] order)
    {
        int at = 0;
        foreach (string state in seen)
        {
            int next = Array.IndexOf(order, state, at);
            if (next < 0)
            {
                return false;
            }

            at = next + 1;
        }

        return true;
    }
}
