using System.Globalization;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Cloud.Unum.USearch;
using Microsoft.Win32.SafeHandles;

namespace T5Gemma2.Rag.Indexer.Stores.Embedded;

/// <summary>
/// An HNSW graph (USearch, inner product) over a <see cref="VectorMatrix"/>'s rows, keyed by passage rowid: approximate
/// dense search for large collections. The graph holds the vectors as bytes (<see cref="Int8Quantizer"/>) and finds
/// candidates; they are re-ranked on the matrix's float vectors, so scores are exact cosines. The matrix stays the
/// source of truth; this index is derived from it, kept in step with writes, and saved beside the database as a cache
/// that is reused only when its recorded generation and format are the file's.
/// </summary>
/// <remarks>
/// <para>It calls USearch's C library directly (the same native binary the Cloud.Unum.USearch package ships) because
/// the package's managed wrapper reserves room one vector at a time (quadratic copying while building), cannot set
/// how many threads may search at once, and has no filtered search.</para>
/// <para>Bytes, not floats: a comparison reads a quarter of the memory and runs on the int8 dot-product instructions,
/// which made building about 4× faster per core at 640 dimensions, and the graph a quarter of the size; re-ranking
/// max(ef, 2k) candidates exactly keeps recall where float32 had it.</para>
/// <para>Threading: <see cref="Nearest"/> may run on many threads at once; <see cref="Add"/>, <see cref="Update"/> and
/// <see cref="Dispose"/> need the caller's exclusive access (a lock, or a graph no one else sees yet), and
/// <see cref="TrySave"/> excludes only updates.</para>
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
    /// are reserved for searches, and a semaphore lets no more in at once.
    /// </summary>
    private static readonly int s_searchThreads = Math.Max(1, Environment.ProcessorCount);

    private readonly IndexHandle _handle;
    private readonly SemaphoreSlim _searchSlots = new(s_searchThreads, s_searchThreads);
    private readonly int _dimensions;
    private readonly int _buildThreads;
    private readonly int _expansionSearch;

    private HnswVectorIndex(IndexHandle handle, int dimensions, Int8Quantizer quantizer, EmbeddedStoreOptions options)
    {
        this._handle = handle;
        this._dimensions = dimensions;
        this._buildThreads = options.BuildThreads;
        this._expansionSearch = options.HnswExpansionSearch;
        this.Quantizer = quantizer;
    }

    /// <summary>A callback USearch asks whether a key may be returned (1) or not (0).</summary>
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int KeyFilter(ulong key, IntPtr state);

    /// <summary>The store's write generation the graph reflects (−1: none).</summary>
    public long Generation { get; set; } = -1;

    /// <summary>How the graph's bytes were made from the vectors; later additions and queries use the same.</summary>
    public Int8Quantizer Quantizer { get; }

    /// <summary>Vectors in the graph.</summary>
    public int Count => checked((int)Check(Native.usearch_size(this._handle, out IntPtr error), error));

    /// <summary>An empty graph for <paramref name="dimensions"/>-dimension vectors quantized by <paramref name="quantizer"/>, with room for <paramref name="capacity"/>.</summary>
    public static HnswVectorIndex Create(int dimensions, Int8Quantizer quantizer, EmbeddedStoreOptions options, int capacity)
    {
        var index = new HnswVectorIndex(Init(dimensions, options), dimensions, quantizer, options);
        try
        {
            index.Reserve(capacity);
            return index;
        }
        catch
        {
            index.Dispose();
            throw;
        }
    }

    /// <summary>A graph of every row of <paramref name="matrix"/>, added on <see cref="EmbeddedStoreOptions.BuildThreads"/> threads.</summary>
    public static HnswVectorIndex Build(VectorMatrix matrix, EmbeddedStoreOptions options)
    {
        var index = Create(matrix.Dimensions, Int8Quantizer.Fit(matrix), options, matrix.Count);
        try
        {
            index.Add(index.Quantize(matrix.RowIds, matrix));
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
    /// The graph saved at <paramref name="path"/> when it was saved at <paramref name="generation"/>, in this format, and
    /// holds exactly <paramref name="rowIds"/>; null when there is none, it is stale, of another format (an older t5rag's
    /// float32 graph), made with another M or dimensions, or unreadable.
    /// </summary>
    /// <param name="owner">Which collection the graph must have been saved by (see <see cref="TrySave"/>): a graph copied from another collection of as many rows is not adopted.</param>
    public static HnswVectorIndex? TryLoad(string path, long generation, string owner, IReadOnlyList<long> rowIds, int dimensions, EmbeddedStoreOptions options)
    {
        var stamp = Stamp.Read(path);
        if (stamp is null || stamp.Generation != generation || stamp.Owner != owner || !stamp.Describes(path) || !HoldsBytes(path, dimensions))
        {
            return null;
        }

        var handle = Init(dimensions, options);
        var index = new HnswVectorIndex(handle, dimensions, new Int8Quantizer(stamp.Scale), options) { Generation = stamp.Generation };
        try
        {
            Native.usearch_load(handle, path, out IntPtr error);
            bool usable = error == IntPtr.Zero
                && Check(Native.usearch_dimensions(handle, out error), error) == (nuint)dimensions
                && Check(Native.usearch_connectivity(handle, out error), error) == (nuint)options.HnswConnectivity
                && index.Count == rowIds.Count
                && rowIds.All(index.Contains)
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

    /// <summary>The rows of <paramref name="rowIds"/> that <paramref name="matrix"/> holds, as this graph's bytes; rows it lacks (deleted since) are skipped.</summary>
    public QuantizedRows Quantize(IEnumerable<long> rowIds, VectorMatrix matrix)
    {
        var keys = new List<long>();
        var bytes = new List<sbyte>();
        var scratch = new float[this._dimensions];
        var row = new sbyte[this._dimensions];
        foreach (long rowId in rowIds)
        {
            if (matrix.TryGetVector(rowId, out var vector))
            {
                this.Quantizer.Quantize(vector, scratch, row);
                keys.Add(rowId);
                bytes.AddRange(row);
            }
        }

        return new QuantizedRows([.. keys], [.. bytes]);
    }

    /// <summary>Adds <paramref name="rows"/>, whose rowids must be absent from the graph, on all build threads when many.</summary>
    public void Add(QuantizedRows rows)
    {
        if (rows.RowIds.Length == 0)
        {
            return;
        }

        this.Reserve(rows.RowIds.Length);
        if (rows.RowIds.Length < ParallelAdditions || this._buildThreads == 1)
        {
            for (int i = 0; i < rows.RowIds.Length; i++)
            {
                this.AddOne(rows, i);
            }
        }
        else
        {
            Parallel.For(0, rows.RowIds.Length, new ParallelOptions { MaxDegreeOfParallelism = this._buildThreads }, i => this.AddOne(rows, i));
        }
    }

    /// <summary>Removes <paramref name="removed"/>, then (re)places <paramref name="changed"/> with their vectors from <paramref name="matrix"/>.</summary>
    /// <remarks>A changed rowid may be in the graph already: a vector changed under it, or SQLite reused a freed highest rowid.</remarks>
    public void Update(IEnumerable<long> removed, IReadOnlyCollection<long> changed, VectorMatrix matrix)
    {
        this.Remove(removed.Concat(changed));
        this.Add(this.Quantize(changed, matrix));
    }

    /// <summary>Removes the rowids that are in the graph; others are ignored.</summary>
    public void Remove(IEnumerable<long> rowIds)
    {
        foreach (long rowId in rowIds)
        {
            Native.usearch_remove(this._handle, (ulong)rowId, out IntPtr error);
            ThrowIfFailed(error);
        }
    }

    /// <summary>
    /// The k nearest rows with their exact cosine from <paramref name="matrix"/> (which the graph must be in step with),
    /// best first: the graph's max(ef, 2k) nearest by bytes, re-ranked; <paramref name="allowed"/> restricts the keys (a filter).
    /// </summary>
    public List<(long RowId, float Score)> Nearest(ReadOnlySpan<float> query, int k, IReadOnlySet<long>? allowed, VectorMatrix matrix)
    {
        // USearch widens its candidate list to the number of results asked for; all ef candidates come back to be re-ranked.
        int wanted = Math.Max(this._expansionSearch, checked(2 * k));
        var keys = new ulong[wanted];
        var distances = new float[wanted];
        var bytes = new sbyte[this._dimensions];
        this.Quantizer.Quantize(query, new float[this._dimensions], bytes);
        KeyFilter? filter = allowed is null ? null : (key, _) => allowed.Contains((long)key) ? 1 : 0;
        nuint found;
        IntPtr error;
        this._searchSlots.Wait();
        try
        {
            ref sbyte first = ref MemoryMarshal.GetArrayDataReference(bytes);
            found = filter is null
                ? Native.usearch_search(this._handle, ref first, ScalarKind.Int8, (nuint)wanted, keys, distances, out error)
                : Native.usearch_filtered_search(this._handle, ref first, ScalarKind.Int8, (nuint)wanted, filter, IntPtr.Zero, keys, distances, out error);
            GC.KeepAlive(filter);
        }
        finally
        {
            this._searchSlots.Release();
        }

        ThrowIfFailed(error);
        var scored = new (long RowId, float Score)[(int)found];
        for (int i = 0; i < scored.Length; i++)
        {
            long rowId = (long)keys[i];
            scored[i] = (rowId, TensorPrimitives.Dot(query, matrix.Vector(rowId)));
        }

        return [.. scored.OrderByDescending(s => s.Score).Take(k)];
    }

    /// <summary>
    /// Writes the graph to <paramref name="path"/> with its generation and format in a stamp beside it, each through a
    /// temporary file and a rename, so a reader sees an old pair, a new pair, or a mismatch it rejects; false when it
    /// could not (a read-only directory, a full disk, a directory deleted meanwhile): the graph is a cache that the next
    /// open rebuilds. Never throws: it runs from Dispose.
    /// </summary>
    /// <param name="owner">The collection's identity, written into the stamp (no spaces).</param>
    public bool TrySave(string path, string owner)
    {
        string temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            Native.usearch_save(this._handle, temporary, out IntPtr error);
            ThrowIfFailed(error);
            var stamp = Stamp.Of(temporary, this.Generation, this.Quantizer.Scale, owner);
            File.Move(temporary, path, overwrite: true);
            stamp.Write(path);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or StoreException)
        {
            try
            {
                File.Delete(temporary);
            }
            catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException)
            {
                // The directory itself is gone or not writable: there is nothing left to clean.
            }

            return false;
        }
    }

    public void Dispose()
    {
        this._handle.Dispose();
        this._searchSlots.Dispose();
    }

    private static IndexHandle Init(int dimensions, EmbeddedStoreOptions options)
    {
        var init = new IndexOptions(MetricKind.Ip, IntPtr.Zero, ScalarKind.Int8, (ulong)dimensions, (ulong)options.HnswConnectivity, (ulong)options.HnswExpansionAdd, (ulong)options.HnswExpansionSearch, false);
        var handle = Native.usearch_init(ref init, out IntPtr error);
        if (error != IntPtr.Zero || handle.IsInvalid)
        {
            handle.Dispose();
            ThrowIfFailed(error);
            throw new StoreException("USearch could not create an index.");
        }

        return handle;
    }

    /// <summary>True when the file's header says inner product on int8 vectors of <paramref name="dimensions"/>: loading adopts the file's kind, so a float32 graph would otherwise be read and fed bytes.</summary>
    private static bool HoldsBytes(string path, int dimensions)
    {
        var header = default(IndexOptions);
        Native.usearch_metadata(path, ref header, out IntPtr error);
        return error == IntPtr.Zero && header.quantization == ScalarKind.Int8 && header.metric_kind == MetricKind.Ip && header.dimensions == (ulong)dimensions;
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

    private void AddOne(QuantizedRows rows, int i)
    {
        Native.usearch_add(this._handle, (ulong)rows.RowIds[i], ref rows.Bytes[(long)i * this._dimensions], ScalarKind.Int8, out IntPtr error);
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

        // Reserving resets the thread contexts to the hardware's count: this many adds, and as many searches as the semaphore allows.
        Native.usearch_change_threads_add(this._handle, (nuint)this._buildThreads, out error);
        ThrowIfFailed(error);
        Native.usearch_change_threads_search(this._handle, (nuint)s_searchThreads, out error);
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

    /// <summary>Rows quantized for the graph: rowid i's bytes at [i·dimensions, (i+1)·dimensions).</summary>
    internal sealed record QuantizedRows(long[] RowIds, sbyte[] Bytes);

    /// <summary>
    /// What a saved graph reflects (its generation), its format and quantization scale, and which file it was (size and
    /// write time), written beside it. A stamp of another format (an older t5rag's three fields for a float32 graph) does
    /// not parse, so that graph is rebuilt rather than read.
    /// </summary>
    private sealed record Stamp(long Generation, float Scale, long Length, long WriteTicks, string Owner)
    {
        private const string Suffix = ".generation";

        /// <summary>Int8 vectors, one scale; a different layout gets another name.</summary>
        private const string Format = "i8";

        public static Stamp Of(string file, long generation, float scale, string owner)
        {
            var info = new FileInfo(file);
            return new Stamp(generation, scale, info.Length, info.LastWriteTimeUtc.Ticks, owner);
        }

        public static Stamp? Read(string indexPath)
        {
            try
            {
                string[] fields = File.ReadAllText(indexPath + Suffix).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                return fields.Length == 6
                    && long.TryParse(fields[0], CultureInfo.InvariantCulture, out long generation)
                    && fields[1] == Format
                    && float.TryParse(fields[2], CultureInfo.InvariantCulture, out float scale) && float.IsFinite(scale) && scale > 0
                    && long.TryParse(fields[3], CultureInfo.InvariantCulture, out long length)
                    && long.TryParse(fields[4], CultureInfo.InvariantCulture, out long ticks)
                    ? new Stamp(generation, scale, length, ticks, fields[5])
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
            File.WriteAllText(temporary, string.Create(CultureInfo.InvariantCulture, $"{this.Generation} {Format} {this.Scale:R} {this.Length} {this.WriteTicks} {this.Owner}"));
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
        public static extern void usearch_metadata([MarshalAs(UnmanagedType.LPUTF8Str)] string path, ref IndexOptions options, out IntPtr error);

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
        public static extern void usearch_add(IndexHandle index, ulong key, ref sbyte vector, ScalarKind kind, out IntPtr error);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl)]
        public static extern nuint usearch_remove(IndexHandle index, ulong key, out IntPtr error);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl)]
        public static extern nuint usearch_search(IndexHandle index, ref sbyte query, ScalarKind kind, nuint count, [Out] ulong[] keys, [Out] float[] distances, out IntPtr error);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl)]
        public static extern nuint usearch_filtered_search(IndexHandle index, ref sbyte query, ScalarKind kind, nuint count, KeyFilter filter, IntPtr state, [Out] ulong[] keys, [Out] float[] distances, out IntPtr error);
    }
}
