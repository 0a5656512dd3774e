using System.Runtime.Versioning;
using T5Gemma2.Rag.Indexer.Loading;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Loading;

public sealed class DirectoryWalkerTests
{
    private static readonly DocumentLoaders s_loaders = DocumentLoaders.CreateDefault();

    private static List<WalkEntry> Walk(DirectoryWalkOptions? options, params string[] paths) =>
        [.. new DirectoryWalker(s_loaders, options).Walk(paths, TestContext.Current.CancellationToken)];

    private static List<string> Files(IEnumerable<WalkEntry> entries) =>
        [.. entries.Where(e => e.IsFile).Select(e => e.File!.RelativePath)];

    [Fact]
    public void FilesComeInOrdinalOrderOfTheirPathsRelativeToTheDirectoryArgument()
    {
        using var temp = new TempDirectory();
        foreach (string name in new[] { "b.md", "a.txt", "a/z.md", "a-c.md", "A.md", "a/b/deep.html", "résumé ü.md" })
        {
            temp.Write("root/" + name, "text");
        }

        var entries = Walk(null, temp.Combine("root"));

        Assert.Equal(["A.md", "a-c.md", "a.txt", "a/b/deep.html", "a/z.md", "b.md", "résumé ü.md"], Files(entries));
        Assert.All(entries, e => Assert.Equal(WalkEntryKind.File, e.Kind));
        Assert.Equal(temp.Combine("root", "a", "b", "deep.html"), entries.Single(e => e.File!.RelativePath == "a/b/deep.html").File!.FullPath);
    }

    [Fact]
    public void AFileArgumentIsRelativeToItselfAndArgumentsKeepTheirOrder()
    {
        using var temp = new TempDirectory();
        string file = temp.Write("docs/sub/notes ü.txt", "x");
        temp.Write("other/z.md", "y");

        var entries = Walk(null, temp.Combine("other"), file);

        Assert.Equal(["z.md", "notes ü.txt"], Files(entries));
        Assert.Equal(file, entries[1].File!.FullPath);
    }

    [Fact]
    public void UnsupportedFilesAreCountedInsideDirectoriesAndProblemsWhenNamed()
    {
        using var temp = new TempDirectory();
        temp.Write("root/keep.md", "x");
        string image = temp.Write("root/video.mp4", "x");
        temp.Write("root/Makefile", "x");

        var walked = Walk(null, temp.Combine("root"));
        var named = Walk(null, image);

        Assert.Equal(["keep.md"], Files(walked));
        Assert.Equal(2, walked.Count(e => e.Kind == WalkEntryKind.Unsupported));
        var problem = Assert.Single(named);
        Assert.True(problem.IsProblem);
        Assert.StartsWith("unsupported extension; expected one of .bmp, .csv, .docx,", problem.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void HiddenFilesAndDirectoriesAreSkippedUnlessIncluded()
    {
        using var temp = new TempDirectory();
        temp.Write("root/visible.md", "x");
        temp.Write("root/.hidden.md", "x");
        temp.Write("root/.git/config.txt", "x");
        temp.Write("root/sub/.env.txt", "x");
        string namedHidden = temp.Write("root/.named.md", "x");

        Assert.Equal(["visible.md"], Files(Walk(null, temp.Combine("root"))));
        Assert.Equal([".git/config.txt", ".hidden.md", ".named.md", "sub/.env.txt", "visible.md"], Files(Walk(new DirectoryWalkOptions { IncludeHidden = true }, temp.Combine("root"))));
        Assert.Equal([".named.md"], Files(Walk(null, namedHidden))); // named explicitly: taken as named
    }

    [Fact]
    public void IncludeAndExcludeGlobsFilterFilesAndPruneDirectories()
    {
        using var temp = new TempDirectory();
        foreach (string name in new[] { "README.md", "docs/guide.md", "docs/api/ref.html", "docs/notes.txt", "node_modules/pkg/readme.md", "build/out.md", "src/build/keep.md" })
        {
            temp.Write("root/" + name, "x");
        }

        var options = new DirectoryWalkOptions { Include = ["*.md", "docs/**/*.html"], Exclude = ["node_modules", "/build"] };

        var entries = Walk(options, temp.Combine("root"));

        Assert.Equal(["README.md", "docs/api/ref.html", "docs/guide.md", "src/build/keep.md"], Files(entries));
        Assert.DoesNotContain(entries, e => e.Kind == WalkEntryKind.Unsupported); // filtered files are not "unsupported"
    }

    [Fact]
    public void FilesOverTheSizeLimitAreProblems()
    {
        using var temp = new TempDirectory();
        temp.Write("root/small.txt", "0123456789");
        temp.Write("root/big.txt", "01234567890123456789");

        var entries = Walk(new DirectoryWalkOptions { MaxFileBytes = 10 }, temp.Combine("root"));

        Assert.Equal(["small.txt"], Files(entries));
        var problem = Assert.Single(entries, e => e.IsProblem);
        Assert.Equal((temp.Combine("root", "big.txt"), "larger than 10 bytes (20 bytes)"), (problem.Path, problem.Reason));
    }

    [Theory]
    [InlineData(100L << 20, "100 MiB")]
    [InlineData((150L << 20) + (512 << 10), "150.5 MiB")]
    [InlineData(1536, "1.5 KiB")]
    [InlineData(3L << 30, "3 GiB")]
    [InlineData(999, "999 bytes")]
    public void SizesAreFormattedForMessages(long bytes, string expected)
    {
        Assert.Equal(expected, DirectoryWalker.FormatBytes(bytes));
    }

    [Fact]
    public void MissingPathsAreProblems()
    {
        using var temp = new TempDirectory();

        var entry = Assert.Single(Walk(null, temp.Combine("nothing here")));

        Assert.Equal((WalkEntryKind.Problem, "not found"), (entry.Kind, entry.Reason));
    }

    [Fact]
    public void ASymbolicLinkLoopIsReportedAndTheWalkEnds()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "symbolic links need a privilege on Windows");
        using var temp = new TempDirectory();
        temp.Write("root/a.md", "x");
        temp.Write("root/sub/b.md", "x");
        Directory.CreateSymbolicLink(temp.Combine("root", "sub", "up"), temp.Combine("root"));
        File.CreateSymbolicLink(temp.Combine("root", "self.md"), temp.Combine("root", "self.md"));

        var entries = Walk(null, temp.Combine("root"));

        Assert.Equal(["a.md", "sub/b.md"], Files(entries));
        var problems = entries.Where(e => e.IsProblem).ToList();
        Assert.Equal([temp.Combine("root", "self.md"), temp.Combine("root", "sub", "up")], problems.Select(e => e.Path));
        Assert.Equal("symbolic link loop", problems[0].Reason);
        Assert.StartsWith("symbolic link loop (back to ", problems[1].Reason, StringComparison.Ordinal);
        Assert.EndsWith($"{Path.DirectorySeparatorChar}root)", problems[1].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void LinkedFilesAndDirectoriesAreFollowedOnceOrNotAtAll()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "symbolic links need a privilege on Windows");
        using var temp = new TempDirectory();
        temp.Write("outside/shared/linked.md", "x");
        temp.Write("outside/file.md", "x");
        temp.Write("root/own.md", "x");
        Directory.CreateSymbolicLink(temp.Combine("root", "alias"), temp.Combine("outside", "shared"));
        Directory.CreateSymbolicLink(temp.Combine("root", "same"), temp.Combine("outside", "shared"));
        File.CreateSymbolicLink(temp.Combine("root", "file-link.md"), temp.Combine("outside", "file.md"));
        File.CreateSymbolicLink(temp.Combine("root", "broken.md"), temp.Combine("outside", "gone.md"));

        var followed = Walk(new DirectoryWalkOptions { FollowLinksOutside = true }, temp.Combine("root"));
        var byDefault = Walk(null, temp.Combine("root"));
        var notFollowed = Walk(new DirectoryWalkOptions { FollowSymlinks = false }, temp.Combine("root"));

        Assert.Equal(["alias/linked.md", "file-link.md", "own.md"], Files(followed)); // "same" is the same directory: once
        Assert.Equal(temp.Combine("root", "alias", "linked.md"), followed[0].File!.FullPath);
        var broken = Assert.Single(followed, e => e.IsProblem);
        Assert.StartsWith("broken symbolic link", broken.Reason, StringComparison.Ordinal);

        // By default a walk reads only the folder it was given: the four links out of it are counted, not followed.
        Assert.Equal(["own.md"], Files(byDefault));
        Assert.Equal(4, byDefault.Count(e => e.Kind == WalkEntryKind.LinkNotFollowed));
        Assert.DoesNotContain(byDefault, e => e.IsProblem);
        Assert.Equal(["own.md"], Files(notFollowed));
        Assert.DoesNotContain(notFollowed, e => e.IsProblem);
    }

    [Fact]
    public void LinksInsideTheFolderAreFollowedByDefault()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "symbolic links need a privilege on Windows");
        using var temp = new TempDirectory();
        temp.Write("root/docs/guide.md", "x");
        temp.Write("root/notes/a.md", "x");
        Directory.CreateSymbolicLink(temp.Combine("root", "docs", "notes-link"), Path.Combine("..", "notes"));
        File.CreateSymbolicLink(temp.Combine("root", "guide-link.md"), temp.Combine("root", "docs", "guide.md"));

        var entries = Walk(null, temp.Combine("root"));

        // Each file once, under the first path the walk reaches it by; nothing counted as leaving the folder.
        Assert.Equal(["docs/guide.md", "docs/notes-link/a.md"], Files(entries));
        Assert.DoesNotContain(entries, e => e.Kind == WalkEntryKind.LinkNotFollowed || e.IsProblem);
    }

    [Fact]
    public void AFileReachedTwiceIsYieldedOnce()
    {
        using var temp = new TempDirectory();
        string file = temp.Write("root/a.md", "x");

        var entries = Walk(null, temp.Combine("root"), file, temp.Combine("root"));

        Assert.Equal(["a.md"], Files(entries));
        Assert.Single(entries);
    }

    [Fact]
    [UnsupportedOSPlatform("windows")]
    public void AnUnreadableDirectoryIsAProblemAndTheWalkGoesOn()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "permissions are set with chmod");
        using var temp = new TempDirectory();
        temp.Write("root/a/locked.md", "x");
        temp.Write("root/b.md", "x");
        string locked = temp.Combine("root", "a");
        File.SetUnixFileMode(locked, UnixFileMode.None);
        try
        {
            bool readable;
            try
            {
                _ = Directory.GetFileSystemEntries(locked);
                readable = true;
            }
            catch (UnauthorizedAccessException)
            {
                readable = false;
            }

            Assert.SkipWhen(readable, "this user (root?) reads directories without permission");

            var entries = Walk(null, temp.Combine("root"));

            Assert.Equal(["b.md"], Files(entries));
            var problem = Assert.Single(entries, e => e.IsProblem);
            Assert.Equal((locked, "permission denied"), (problem.Path, problem.Reason));
        }
        finally
        {
            File.SetUnixFileMode(locked, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }
}
