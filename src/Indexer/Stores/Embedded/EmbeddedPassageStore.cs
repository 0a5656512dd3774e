using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace T5Gemma2.Rag.Indexer.Stores.Embedded;

/// <summary>
/// The default store: a directory with one sub-directory per collection, each holding one SQLite file. No server.
/// Collections opened through one store instance are shared, so every caller in a process sees one vector matrix.
/// </summary>
public sealed partial class EmbeddedPassageStore : IPassageStore
{
    private readonly ConcurrentDictionary<string, EmbeddedPassageCollection> _open = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    private readonly ILogger _logger;

    private EmbeddedPassageStore(string directory, EmbeddedStoreOptions options, ILogger logger)
    {
        this.Directory = directory;
        this.Options = options;
        this._logger = logger;
    }

    /// <summary>The store's directory.</summary>
    public string Directory { get; }

    /// <summary>The store's directory: where it is, for messages.</summary>
    public string Location => this.Directory;

    /// <summary>How its collections serve dense search.</summary>
    public EmbeddedStoreOptions Options { get; }

    /// <summary>A store rooted at <paramref name="directory"/> (created when the first collection is).</summary>
    /// <param name="options">Dense search settings; null: <see cref="EmbeddedStoreOptions.Default"/>.</param>
    /// <param name="loggerFactory">For the warning that a write waits for another process's.</param>
    public static EmbeddedPassageStore Open(string directory, EmbeddedStoreOptions? options = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        options ??= EmbeddedStoreOptions.Default;
        options.Validate();
        var logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<EmbeddedPassageStore>();
        return new EmbeddedPassageStore(Path.GetFullPath(directory), options, logger);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<string>> ListCollectionsAsync(CancellationToken cancellationToken = default)
    {
        IReadOnlyList<string> names = !System.IO.Directory.Exists(this.Directory)
            ? []
            : [.. System.IO.Directory.EnumerateDirectories(this.Directory)
                .Where(d => File.Exists(Path.Combine(d, EmbeddedSchema.FileName)))
                .Select(Path.GetFileName)
                .OfType<string>()
                .Order(StringComparer.Ordinal)];
        return Task.FromResult(names);
    }

    /// <inheritdoc />
    public Task<IPassageCollection?> OpenCollectionAsync(string name, CancellationToken cancellationToken = default)
    {
        string directory = this.CollectionDirectory(name);
        if (!File.Exists(Path.Combine(directory, EmbeddedSchema.FileName)))
        {
            return Task.FromResult<IPassageCollection?>(null);
        }

        lock (this._gate)
        {
            return Task.FromResult<IPassageCollection?>(this._open.GetOrAdd(name, n => EmbeddedPassageCollection.Open(n, directory, create: null, this.Options, this._logger)));
        }
    }

    /// <inheritdoc />
    public Task<IPassageCollection> OpenOrCreateCollectionAsync(string name, CollectionSettings settings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.Dimensions, 1, "settings.Dimensions");
        string directory = this.CollectionDirectory(name);
        lock (this._gate)
        {
            if (this._open.TryGetValue(name, out var open))
            {
                ModelMismatchException.ThrowIfDiffers(name, open.Settings, settings);
                return Task.FromResult<IPassageCollection>(open);
            }

            var collection = EmbeddedPassageCollection.Open(name, directory, settings, this.Options, this._logger);
            this._open[name] = collection;
            return Task.FromResult<IPassageCollection>(collection);
        }
    }

    /// <inheritdoc />
    public Task<bool> DeleteCollectionAsync(string name, CancellationToken cancellationToken = default)
    {
        string directory = this.CollectionDirectory(name);
        lock (this._gate)
        {
            if (this._open.TryRemove(name, out var open))
            {
                open.Close(saveVectorIndex: false);
            }

            if (!System.IO.Directory.Exists(directory))
            {
                return Task.FromResult(false);
            }

            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            System.IO.Directory.Delete(directory, recursive: true);
            return Task.FromResult(true);
        }
    }

    public void Dispose()
    {
        foreach (var collection in this._open.Values)
        {
            collection.Dispose();
        }

        this._open.Clear();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    }

    private string CollectionDirectory(string name)
    {
        if (!ValidName().IsMatch(name ?? string.Empty))
        {
            throw new ArgumentException($"collection name '{name}': expected 1–64 letters, digits, '_', '-' or '.', not starting with '.'.", nameof(name));
        }

        return Path.Combine(this.Directory, name!);
    }

    [GeneratedRegex(@"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}$")]
    private static partial Regex ValidName();
}
