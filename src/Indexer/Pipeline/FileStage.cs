using System.Diagnostics;
using Microsoft.Extensions.Logging;
using T5Gemma2.Rag.Indexer.Documents;
using T5Gemma2.Rag.Indexer.Loading;
using T5Gemma2.Rag.Indexer.Stores;

namespace T5Gemma2.Rag.Indexer.Pipeline;

/// <summary>
/// The file side of a run: walks the given paths into the files to read (counting unsupported files, links not
/// followed and paths that fail), then loads each file and hands its documents to the run; a file that fails to
/// load is reported with its reason and the run goes on.
/// </summary>
internal sealed class FileStage(DocumentLoaders loaders, DirectoryWalkOptions walk, ILogger logger)
{
    /// <summary>The files under <paramref name="paths"/>, reading nothing outside <paramref name="roots"/>; the walk's counts and failures go into <paramref name="summary"/>.</summary>
    /// <returns>The files, and the document ids (file ids) of the paths that failed, which pruning must keep.</returns>
    public (List<DocumentFile> Files, HashSet<string> FailedSources) Walk(IReadOnlyList<string> paths, AllowedFolders? roots, IngestSummary summary, CancellationToken cancellationToken)
    {
        var entries = new DirectoryWalker(loaders, walk, roots).Walk(paths, cancellationToken).ToList();
        var files = entries.Where(e => e.IsFile).Select(e => e.File!).ToList();
        summary.FilesFound = files.Count;
        summary.UnsupportedFiles = entries.Count(e => e.Kind == WalkEntryKind.Unsupported);
        summary.LinksNotFollowed = entries.Count(e => e.Kind == WalkEntryKind.LinkNotFollowed);
        foreach (var problem in entries.Where(e => e.IsProblem))
        {
            summary.Failures.Add((problem.Path, problem.Reason!));
            logger.NotIndexed(problem.Path, problem.Reason!);
        }

        foreach (var unsupported in entries.Where(e => e.Kind == WalkEntryKind.Unsupported))
        {
            logger.Unsupported(unsupported.Path);
        }

        return (files, new HashSet<string>(summary.Failures.Select(f => PassageIds.ForFile(Path.GetFullPath(f.Path))), StringComparer.Ordinal));
    }

    /// <summary>Loads each file into the run; a file that fails is added to <paramref name="failedSources"/>.</summary>
    public async Task LoadAsync(List<DocumentFile> files, IngestRun run, HashSet<string> failedSources, CancellationToken cancellationToken)
    {
        var summary = run.Summary;
        foreach (var file in files)
        {
            // The loader by the file's own name (a staged file keeps its extension); messages and ids by its source.
            var loader = loaders.ForFile(file.FullPath);
            var started = Stopwatch.GetTimestamp();
            try
            {
                if (loader is null)
                {
                    throw new DocumentLoadException(file.Source, $"no loader reads '{Path.GetExtension(file.FullPath)}' files; expected one of {string.Join(", ", loaders.Extensions)}.");
                }

                await foreach (var document in loader.LoadAsync(file, cancellationToken).ConfigureAwait(false))
                {
                    summary.LoadTime += Stopwatch.GetElapsedTime(started);
                    await run.PrepareAsync(document, file.Source, cancellationToken).ConfigureAwait(false);
                    started = Stopwatch.GetTimestamp();
                }

                summary.LoadTime += Stopwatch.GetElapsedTime(started);
            }
            catch (DocumentLoadException ex)
            {
                run.Fail(file.Source, ex.Reason);
                failedSources.Add(file.DocumentId);
            }
            catch (Exception ex) when (ItemFaults.IsOfOneItem(ex))
            {
                run.Fail(file.Source, $"cannot be read ({ex.GetType().Name}: {ex.Message.Split('\n')[0]})");
                failedSources.Add(file.DocumentId);
            }

            summary.FilesRead++;
            run.Report();
        }
    }

    /// <summary>
    /// Removes the documents of files under <paramref name="paths"/> that this run did not meet and that did not fail
    /// (their files are gone), and counts them into the run's summary.
    /// </summary>
    public static async Task PruneAsync(IPassageCollection collection, IReadOnlyList<string> paths, IngestRun run, HashSet<string> failedSources, CancellationToken cancellationToken)
    {
        var summary = run.Summary;
        var indexed = paths.Select(p => PassageIds.ForFile(Path.GetFullPath(p))).ToList();
        var documents = await collection.GetDocumentsAsync(cancellationToken).ConfigureAwait(false);
        var gone = documents.Values
            .Where(d => !run.Seen.Contains(d.DocumentId) && !failedSources.Contains(PassageIds.ForFile(d.Source))
                && indexed.Any(r => PassageIds.ForFile(d.Source) == r || PassageIds.ForFile(d.Source).StartsWith(r.TrimEnd('/') + "/", StringComparison.Ordinal)))
            .ToList();
        if (gone.Count > 0)
        {
            var started = Stopwatch.GetTimestamp();
            summary.DocumentsPruned = await collection.DeleteDocumentsAsync([.. gone.Select(d => d.DocumentId)], cancellationToken).ConfigureAwait(false);
            summary.PassagesRemoved += gone.Sum(d => (long)d.PassageCount);
            summary.WriteTime += Stopwatch.GetElapsedTime(started);
        }
    }
}
