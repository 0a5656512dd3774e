using System.Globalization;
using System.Runtime.InteropServices;
using Cloud.Unum.USearch;
using Microsoft.Win32.SafeHandles;

namespace T5Gemma2.Rag.Indexer.Stores.Embedded;

/// <summary>
/// An HNSW graph (USearch, inner product on the unit vectors, so distance = 1 − cosine) over a
/// <see cref="VectorMatrix"/>'s rows, keyed by passage rowid: approximate dense search for large collections. The
/// matrix stays the source of truth; this index is derived from it, kept in step with writes, and saved beside the
/// database as a cache that is reused only when its recorded generation is the file's.
/// </summary>
/// <remarks>
/// <para>It calls USearch's C library directly (the same native binary the Cloud.Unum.USearch package ships) because
/// the package's managed wrapper reserves room one vector at a time (quadratic copying while building), cannot set
/// how many threads may search at once, and has no filtered search.</para>
/// <para>Threading: <see cref="Nearest"/> may run on many threads at once; <see cref="Update"/> and
/// <see cref="Dispose"/> need the caller's exclusive lock, and <see cref="TrySave"/> excludes only updates.</para>
/// </remarks>
internal sealed class HnswVectorIndex : IDisposable
{
    /// <summary>The index file in a collection's directory.</summary>
    public const string FileName = "vectors.usearch";

    private const string LibraryName = "libusearch_c";

    /// <summary>Below this many additions, threads cost more than they save.</summary>
    private const int ParallelAdditions = 256;

    /// <summary>
    /// USearch keeps one scratch context per concurrent operation and fails a search that finds none free; this many
    /// are reserved, and a semaphore lets no more searches in at once.
    /// </summary>
    private static readonly int s_threads = Math.Max(1, Environment.ProcessorCount);

    private readonly IndexHandle _handle;
    private readonly SemaphoreSlim _searchSlots = new(s_threads, s_threads);

    private HnswVectorIndex(IndexHandle handle) => this._handle = handle;

    /// <summary>A callback USearch asks whether a key may be returned (1) or not (0).</summary>
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int KeyFilter(ulong key, IntPtr state);

    /// <summary>The store's write generation the graph reflects (−1: none).</summary>
    public long Generation { get; set; } = -1;

    /// <summary>Vectors in the graph.</summary>
    public int Count => checked((int)Check(Native.usearch_size(this._handle, out IntPtr error), error));

    /// <summary>A graph of every row of <paramref name="matrix"/>, added on all cores.</summary>
    public static HnswVectorIndex Build(VectorMatrix matrix, EmbeddedStoreOptions options)
    {
        var index = new HnswVectorIndex(Create(matrix.Dimensions, options));
        try
        {
            index.Add(matrix.RowIds, matrix);
            index.Generation = matrix.Generation;
            return index;
        }
        catch
        {
            index.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The graph saved at <paramref name="path"/> when it was saved at <paramref name="matrix"/>'s generation and
    /// holds exactly its rows; null when there is none, it is stale, made with another M, or unreadable.
    /// </summary>
    public static HnswVectorIndex? TryLoad(string path, VectorMatrix matrix, EmbeddedStoreOptions options)
    {
        var stamp = Stamp.Read(path);
        if (stamp is null || stamp.Generation != matrix.Generation || !stamp.Describes(path))
        {
            return null;
        }

        var handle = Create(matrix.Dimensions, options);
        var index = new HnswVectorIndex(handle) { Generation = stamp.Generation };
        try
        {
            Native.usearch_load(handle, path, out IntPtr error);
            bool usable = error == IntPtr.Zero
                && Check(Native.usearch_dimensions(handle, out error), error) == (nuint)matrix.Dimensions
                && Check(Native.usearch_connectivity(handle, out error), error) == (nuint)options.HnswConnectivity
                && index.Count == matrix.Count
                && matrix.RowIds.All(index.Contains)
                && stamp.Describes(path); // not replaced by another process while it was read
            if (!usable)
            {
                index.Dispose();
                return null;
            }

            // Loading restores the graph, not the search settings or the concurrency; those are this process's.
            index.Configure(options);
            return index;
        }
        catch
        {
            index.Dispose();
            throw;
        }
    }

    /// <summary>Removes <paramref name="removed"/>, then (re)places <paramref name="changed"/> with their vectors from <paramref name="matrix"/>.</summary>
    /// <remarks>A changed rowid may be in the graph already: a vector changed under it, or SQLite reused a freed highest rowid.</remarks>
    public void Update(IReadOnlyCollection<long> removed, IReadOnlyList<long> changed, VectorMatrix matrix)
    {
        foreach (long rowId in removed.Concat(changed))
        {
            Native.usearch_remove(this._handle, (ulong)rowId, out IntPtr error);
            ThrowIfFailed(error);
        }

        this.Add(changed, matrix);
    }

    /// <summary>The k nearest keys with their cosine, best first, searched with ef = max(ef, 2k); <paramref name="allowed"/> restricts the keys (a filter).</summary>
    public List<(long RowId, float Score)> Nearest(ReadOnlySpan<float> query, int k, IReadOnlySet<long>? allowed)
    {
        // USearch widens its candidate list to the number of results asked for: asking 2k sets ef to at least 2k.
        int wanted = checked(2 * k);
        var keys = new ulong[wanted];
        var distances = new float[wanted];
        KeyFilter? filter = allowed is null ? null : (key, _) => allowed.Contains((long)key) ? 1 : 0;
        nuint found;
        IntPtr error;
        this._searchSlots.Wait();
        try
        {
            ref float first = ref MemoryMarshal.GetReference(query);
            found = filter is null
                ? Native.usearch_search(this._handle, ref first, ScalarKind.Float32, (nuint)wanted, keys, distances, out error)
                : Native.usearch_filtered_search(this._handle, ref first, ScalarKind.Float32, (nuint)wanted, filter, IntPtr.Zero, keys, distances, out error);
            GC.KeepAlive(filter);
        }
        finally
        {
            this._searchSlots.Release();
        }

        ThrowIfFailed(error);
        int count = Math.Min(k, (int)found);
        var result = new List<(long, float)>(count);
        for (int i = 0; i < count; i++)
        {
            result.Add(((long)keys[i], 1 - distances[i]));
        }

        return result;
    }

    /// <summary>
    /// Writes the graph to <paramref name="path"/> with its generation in a stamp beside it, each through a temporary
    /// file and a rename, so a reader sees an old pair, a new pair, or a mismatch it rejects; false when it could not
    /// (a read-only directory, a full disk): the graph is a cache that the next open rebuilds.
    /// </summary>
    public bool TrySave(string path)
    {
        string temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            Native.usearch_save(this._handle, temporary, out IntPtr error);
            ThrowIfFailed(error);
            var stamp = Stamp.Of(temporary, this.Generation);
            File.Move(temporary, path, overwrite: true);
            stamp.Write(path);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or StoreException)
        {
            File.Delete(temporary);
            return false;
        }
    }

    public void Dispose()
    {
        this._handle.Dispose();
        this._searchSlots.Dispose();
    }

    private static IndexHandle Create(int dimensions, EmbeddedStoreOptions options)
    {
        var init = new IndexOptions(MetricKind.Ip, IntPtr.Zero, ScalarKind.Float32, (ulong)dimensions, (ulong)options.HnswConnectivity, (ulong)options.HnswExpansionAdd, (ulong)options.HnswExpansionSearch, false);
        var handle = Native.usearch_init(ref init, out IntPtr error);
        if (error != IntPtr.Zero || handle.IsInvalid)
        {
            handle.Dispose();
            ThrowIfFailed(error);
            throw new StoreException("USearch could not create an index.");
        }

        return handle;
    }

    private static nuint Check(nuint result, IntPtr error)
    {
        ThrowIfFailed(error);
        return result;
    }

    private static void ThrowIfFailed(IntPtr error)
    {
        if (error != IntPtr.Zero)
        {
            throw new StoreException($"USearch: {Marshal.PtrToStringUTF8(error)}");
        }
    }

    private bool Contains(long rowId)
    {
        bool contains = Native.usearch_contains(this._handle, (ulong)rowId, out IntPtr error);
        ThrowIfFailed(error);
        return contains;
    }

    /// <summary>Adds rowids absent from the graph, with their vectors from <paramref name="matrix"/>, on all cores when many.</summary>
    private void Add(IReadOnlyList<long> rowIds, VectorMatrix matrix)
    {
        if (rowIds.Count == 0)
        {
            return;
        }

        this.Reserve(rowIds.Count);
        if (rowIds.Count < ParallelAdditions)
        {
            foreach (long rowId in rowIds)
            {
                this.Add(rowId, matrix.Vector(rowId));
            }
        }
        else
        {
            Parallel.For(0, rowIds.Count, new ParallelOptions { MaxDegreeOfParallelism = s_threads }, i => this.Add(rowIds[i], matrix.Vector(rowIds[i])));
        }
    }

    private void Add(long rowId, ReadOnlySpan<float> vector)
    {
        Native.usearch_add(this._handle, (ulong)rowId, ref MemoryMarshal.GetReference(vector), ScalarKind.Float32, out IntPtr error);
        ThrowIfFailed(error);
    }

    /// <summary>Room for <paramref name="additions"/> more vectors, grown by doubling so a run of small writes does not copy the graph's tables each time.</summary>
    private void Reserve(int additions)
    {
        nuint needed = Check(Native.usearch_size(this._handle, out IntPtr error), error) + (nuint)additions;
        nuint capacity = Check(Native.usearch_capacity(this._handle, out error), error);
        if (needed > capacity)
        {
            Native.usearch_reserve(this._handle, Math.Max(needed, capacity * 2), out error);
            ThrowIfFailed(error);
        }

        // Reserving resets the thread contexts to the hardware's count; this process's own count is what the semaphore allows.
        Native.usearch_change_threads_add(this._handle, (nuint)s_threads, out error);
        ThrowIfFailed(error);
        Native.usearch_change_threads_search(this._handle, (nuint)s_threads, out error);
        ThrowIfFailed(error);
    }

    private void Configure(EmbeddedStoreOptions options)
    {
        Native.usearch_change_expansion_add(this._handle, (nuint)options.HnswExpansionAdd, out IntPtr error);
        ThrowIfFailed(error);
        Native.usearch_change_expansion_search(this._handle, (nuint)options.HnswExpansionSearch, out error);
        ThrowIfFailed(error);
        this.Reserve(0);
    }

    /// <summary>What a saved graph reflects (its generation) and which file it was (size and write time), written beside it.</summary>
    private sealed record Stamp(long Generation, long Length, long WriteTicks)
    {
        private const string Suffix = ".generation";

        public static Stamp Of(string file, long generation)
        {
            var info = new FileInfo(file);
            return new Stamp(generation, info.Length, info.LastWriteTimeUtc.Ticks);
        }

        public static Stamp? Read(string indexPath)
        {
            try
            {
                string[] fields = File.ReadAllText(indexPath + Suffix).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                return fields.Length == 3
                    && long.TryParse(fields[0], CultureInfo.InvariantCulture, out long generation)
                    && long.TryParse(fields[1], CultureInfo.InvariantCulture, out long length)
                    && long.TryParse(fields[2], CultureInfo.InvariantCulture, out long ticks)
                    ? new Stamp(generation, length, ticks)
                    : null;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return null;
            }
        }

        /// <summary>True when <paramref name="indexPath"/> is still the file this stamp was made of (a rename keeps the write time).</summary>
        public bool Describes(string indexPath)
        {
            var info = new FileInfo(indexPath);
            return info.Exists && info.Length == this.Length && info.LastWriteTimeUtc.Ticks == this.WriteTicks;
        }

        public void Write(string indexPath)
        {
            string temporary = $"{indexPath}{Suffix}.{Guid.NewGuid():N}.tmp";
            File.WriteAllText(temporary, string.Create(CultureInfo.InvariantCulture, $"{this.Generation} {this.Length} {this.WriteTicks}"));
            File.Move(temporary, indexPath + Suffix, overwrite: true);
        }
    }

    /// <summary>An index handle freed by usearch_free; marshalled calls hold a reference, so disposal never frees it under a running search.</summary>
    private sealed class IndexHandle : SafeHandleZeroOrMinusOneIsInvalid
    {
        public IndexHandle()
            : base(ownsHandle: true)
        {
        }

        protected override bool ReleaseHandle()
        {
            Native.usearch_free(this.handle, out _);
            return true;
        }
    }

    /// <summary>The C API of USearch (c/usearch.h); every call reports failure through its last argument.</summary>
    private static class Native
    {
        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl)]
        public static extern IndexHandle usearch_init(ref IndexOptions options, out IntPtr error);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl)]
        public static extern void usearch_free(IntPtr index, out IntPtr error);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl)]
        public static extern void usearch_save(IndexHandle index, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, out IntPtr error);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl)]
        public static extern void usearch_load(IndexHandle index, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, out IntPtr error);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl)]
        public static extern nuint usearch_size(IndexHandle index, out IntPtr error);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl)]
        public static extern nuint usearch_capacity(IndexHandle index, out IntPtr error);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl)]
        public static extern nuint usearch_dimensions(IndexHandle index, out IntPtr error);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl)]
        public static extern nuint usearch_connectivity(IndexHandle index, out IntPtr error);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl)]
        public static extern void usearch_reserve(IndexHandle index, nuint capacity, out IntPtr error);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl)]
        public static extern void usearch_change_expansion_add(IndexHandle index, nuint expansion, out IntPtr error);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl)]
        public static extern void usearch_change_expansion_search(IndexHandle index, nuint expansion, out IntPtr error);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl)]
        public static extern void usearch_change_threads_add(IndexHandle index, nuint threads, out IntPtr error);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl)]
        public static extern void usearch_change_threads_search(IndexHandle index, nuint threads, out IntPtr error);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl)]
        [return: MarshalAs(UnmanagedType.U1)]
        public static extern bool usearch_contains(IndexHandle index, ulong key, out IntPtr error);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl)]
        public static extern void usearch_add(IndexHandle index, ulong key, ref float vector, ScalarKind kind, out IntPtr error);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl)]
        public static extern nuint usearch_remove(IndexHandle index, ulong key, out IntPtr error);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl)]
        public static extern nuint usearch_search(IndexHandle index, ref float query, ScalarKind kind, nuint count, [Out] ulong[] keys, [Out] float[] distances, out IntPtr error);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl)]
        public static extern nuint usearch_filtered_search(IndexHandle index, ref float query, ScalarKind kind, nuint count, KeyFilter filter, IntPtr state, [Out] ulong[] keys, [Out] float[] distances, out IntPtr error);
    }
}
