using T5Gemma2.Rag.Indexer.Documents;
using T5Gemma2.Rag.Indexer.Loading;
using T5Gemma2.Rag.SemanticKernel;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.SemanticKernel;

/// <summary>
/// index_file under <see cref="KnowledgeBaseOptions.FileRoots"/>, attacked as a model would: every way out of the root
/// that a path can take (links to files and folders, links further down, <c>..</c>, absolute paths, another case, a
/// sibling whose name starts with the root's, a link swapped in after the check). After all of them, nothing of the
/// secret is in the index, and no refusal says more than "outside the allowed folders".
/// </summary>
public sealed class FileRootAttackTests(SharedMiniLm miniLm) : IDisposable
{
    private const string SecretWord = "quixotiquartz";

    private readonly TempDirectory _directory = new();

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        this._directory.Dispose();
    }

    [Fact]
    public async Task NoPathGetsOutOfTheRootsAndRefusalsSayNothingMore()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "symbolic links need a privilege on Windows");
        string root = this._directory.Combine("root");
        this._directory.Write("root/own.md", "# Own\n\nThe harbour master logs every ship that enters.\n");
        string secret = this._directory.Write("outside/secret.md", $"# Secret\n\nThe vault code is {SecretWord}.\n");
        this._directory.Write("rootevil/secret.md", $"# Sibling\n\n{SecretWord} in a folder whose name starts with the root's.\n");
        this._directory.Write("Root/secret.md", $"# Case\n\n{SecretWord} in a folder that differs from the root only in case.\n");
        File.CreateSymbolicLink(this._directory.Combine("root", "file-link.md"), secret);
        Directory.CreateSymbolicLink(this._directory.Combine("root", "dir-link"), this._directory.Combine("outside"));
        Directory.CreateDirectory(this._directory.Combine("root", "deep", "er"));
        Directory.CreateSymbolicLink(this._directory.Combine("root", "deep", "er", "up"), Path.Combine("..", "..", "..", "outside"));
        File.CreateSymbolicLink(this._directory.Combine("root", "dangling.md"), this._directory.Combine("outside", "not-there.md"));

        // The root is given through a link of its own: containment is decided on real paths, so it still holds.
        string rootLink = this._directory.Combine("root-link");
        Directory.CreateSymbolicLink(rootLink, root);
        await using var sut = KnowledgeKernel.Create(miniLm.Generator, this._directory.Combine("store"), o => o.FileRoots = [rootLink + Path.DirectorySeparatorChar]);

        string[] attacks =
        [
            secret,
            this._directory.Combine("outside"),
            Path.Combine(root, "..", "outside", "secret.md"),
            Path.Combine(rootLink, "..", "outside", "secret.md"),
            Path.Combine(root, "file-link.md"),
            Path.Combine(root, "dir-link"),
            Path.Combine(root, "dir-link", "secret.md"),
            Path.Combine(root, "deep", "er", "up", "secret.md"),
            Path.Combine(root, "dangling.md"),
            this._directory.Combine("rootevil", "secret.md"),
            this._directory.Combine("Root", "secret.md"),
            this._directory.Combine("outside", "not-there.md"),
            "/etc/passwd",
        ];
        foreach (string attack in attacks)
        {
            var refused = await sut.InvokeAsync<IndexResult>("index_file", new() { ["path"] = attack });
            Assert.NotNull(refused.Error);
            Assert.Contains("is outside the allowed folders", refused.Error, StringComparison.Ordinal);
            Assert.DoesNotContain(SecretWord, refused.Error, StringComparison.Ordinal);
            Assert.DoesNotContain("not-there", refused.Error.Replace(attack, string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
            Assert.Equal(0, refused.DocumentsNew);
        }

        // The root itself, through either spelling: its own file is indexed, each link out of it is a failure that
        // says only "outside the allowed folders" (not where it points, not whether that exists).
        var walked = await sut.InvokeAsync<IndexResult>("index_file", new() { ["path"] = root + Path.DirectorySeparatorChar });
        Assert.Null(walked.Error);
        Assert.Equal(1, walked.DocumentsNew);
        Assert.Equal(4, walked.Failures.Count);
        Assert.All(walked.Failures, f => Assert.EndsWith(": outside the allowed folders", f, StringComparison.Ordinal));
        var again = await sut.InvokeAsync<IndexResult>("index_file", new() { ["path"] = Path.Combine(rootLink, "own.md") });
        Assert.Null(again.Error);

        var found = await sut.InvokeAsync<SearchResults>("search", new() { ["query"] = $"vault code {SecretWord}", ["top"] = 10 });
        Assert.All(found.Passages, p => Assert.DoesNotContain(SecretWord, p.Text, StringComparison.Ordinal));
        Assert.All(found.Passages, p => Assert.EndsWith("own.md", p.Source, StringComparison.Ordinal));
    }

    [Fact]
    public async Task AFileSwappedForALinkAfterTheCheckIsRefusedWhenOpened()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "symbolic links need a privilege on Windows");
        string root = this._directory.Combine("root");
        string inside = this._directory.Write("root/notes.md", "# Notes\n\nnothing secret here\n");
        string secret = this._directory.Write("outside/secret.md", $"# Secret\n\n{SecretWord}\n");
        var roots = AllowedFolders.Create([root]);
        var loaders = DocumentLoaders.CreateDefault();

        // The walk checks the file where it is; then, before a loader opens it, it becomes a link out of the root.
        var entry = Assert.Single(new DirectoryWalker(loaders, roots: roots).Walk([root], TestContext.Current.CancellationToken));
        Assert.True(entry.IsFile);
        File.Delete(inside);
        File.CreateSymbolicLink(inside, secret);

        var loader = loaders.ForFile(entry.File.FullPath)!;
        var refused = await Assert.ThrowsAsync<DocumentLoadException>(async () =>
        {
            await foreach (var document in loader.LoadAsync(entry.File, TestContext.Current.CancellationToken))
            {
                Assert.Fail($"read through the swapped link: {document.Text}");
            }
        });
        Assert.Equal("outside the allowed folders", refused.Reason);

        // Without roots (t5rag index on one's own files) the same entry reads the link's target: the check is the roots'.
        var unbounded = Assert.Single(new DirectoryWalker(loaders, new DirectoryWalkOptions { FollowLinksOutside = true }).Walk([root], TestContext.Current.CancellationToken));
        var read = await loaders.ForFile(unbounded.File!.FullPath)!.LoadAsync(unbounded.File, TestContext.Current.CancellationToken).ToListAsync(TestContext.Current.CancellationToken);
        Assert.Contains(SecretWord, Assert.Single(read).Text, StringComparison.Ordinal);
    }

    [Fact]
    public void ContainmentIsDecidedOnRealPaths()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "symbolic links need a privilege on Windows");
        string root = this._directory.Combine("kb");
        this._directory.Write("kb/a/b.md", "x");
        this._directory.Write("kb2/c.md", "x");
        Directory.CreateSymbolicLink(this._directory.Combine("kb", "a", "out"), this._directory.Path);
        var roots = AllowedFolders.Create([root + "/"]);

        Assert.True(roots.Contains(root));
        Assert.True(roots.Contains(root + "/a/./b.md"));
        Assert.True(roots.Contains(root + "//a//b.md"));
        Assert.True(roots.Contains(root + "/a/not-yet.md"));
        Assert.False(roots.Contains(this._directory.Combine("kb2", "c.md")));
        Assert.False(roots.Contains(root + "/a/out/kb2/c.md"));
        Assert.True(roots.Contains(root + "/a/out/kb/a/b.md")); // out and back in is inside
        Assert.False(roots.Contains(root + "/../kb2/c.md"));
        Assert.False(roots.Contains(this._directory.Path));
    }
}
