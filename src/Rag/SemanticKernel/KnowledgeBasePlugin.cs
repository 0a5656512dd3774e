using System.ComponentModel;
using Microsoft.SemanticKernel;
using T5Gemma2.Rag.Answering;
using T5Gemma2.Rag.Encoder.Images;
using T5Gemma2.Rag.Encoder.Models;
using T5Gemma2.Rag.Indexer.Documents;
using T5Gemma2.Rag.Indexer.Loading;
using T5Gemma2.Rag.Indexer.Pipeline;
using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Retrieval;

namespace T5Gemma2.Rag.SemanticKernel;

/// <summary>
/// The knowledge base as Semantic Kernel functions a model can call: <c>search</c>, <c>ask</c>, <c>index_text</c>,
/// <c>index_file</c> and <c>forget_document</c>. Each one delegates to <see cref="PassageRetriever"/>,
/// <see cref="RagAnswerer"/> or <see cref="IngestPipeline"/> and returns a record that serializes to plain JSON.
/// </summary>
/// <remarks>
/// <para>Turned into a plugin by <c>KernelPluginFactory.CreateFromObject(plugin, "knowledge")</c>, which
/// <c>IKernelBuilder.AddT5Gemma2Rag</c> does for you.</para>
/// <para>Bad input that the caller can correct (an empty question or text, an empty collection, a filter that matches
/// nothing, no answering model, a path that does not exist, a collection indexed with another embedding model) is
/// returned in the result's <c>Error</c>, not thrown:
/// function-calling hosts differ in what they pass on of an exception (Microsoft.Extensions.AI's
/// FunctionInvokingChatClient sends the model only "Error: Function failed." unless IncludeDetailedErrors is set), while
/// a returned object reaches the model word for word, and a model told that the collection belongs to another model
/// stops retrying. Faults that no call can correct and only the host's operator can see to (a model directory that
/// cannot be loaded, a store that cannot be used: <see cref="StoreException"/>) are thrown.</para>
/// <para>Writes (index_text, index_file, forget_document) run one at a time; searches run alongside them.</para>
/// </remarks>
public sealed class KnowledgeBasePlugin
{
    private const string NoHostFiles = "this knowledge base reads no files of its host by path (KnowledgeBaseOptions.ReadHostFiles is off): send text with index_text, an image as base64 or a data: URI.";

    private readonly PassageRetriever _retriever;
    private readonly IngestPipeline _pipeline;
    private readonly RagAnswerer? _answerer;
    private readonly KnowledgeBaseOptions _options;
    private readonly HostScope _scope;
    private readonly AllowedFolders? _roots;
    private readonly SemaphoreSlim _writes;

    /// <param name="retriever">Searches the collection.</param>
    /// <param name="pipeline">Indexes into the same collection.</param>
    /// <param name="answerer">Answers over the same retriever; null leaves ask answering with an error that says so.</param>
    /// <param name="options">Defaults for the calls (retrieval, packing, generation, file roots); null: the defaults.</param>
    /// <param name="writeLock">
    /// The lock every writer of the collection takes (a host that also indexes the collection by other means, such as
    /// the service's ingestion jobs, shares its own), so a write here never interleaves with theirs; null: the plugin's own.
    /// </param>
    public KnowledgeBasePlugin(PassageRetriever retriever, IngestPipeline pipeline, RagAnswerer? answerer = null, KnowledgeBaseOptions? options = null, SemaphoreSlim? writeLock = null)
    {
        ArgumentNullException.ThrowIfNull(retriever);
        ArgumentNullException.ThrowIfNull(pipeline);
        this._retriever = retriever;
        this._pipeline = pipeline;
        this._answerer = answerer;
        this._writes = writeLock ?? new SemaphoreSlim(1, 1);
        this._options = options ?? new KnowledgeBaseOptions();
        this._scope = new HostScope(this._options.Retrieval.Filter);
        this._roots = this._options.FileRoots is { } roots ? AllowedFolders.Create(roots) : null;
    }

    /// <summary>Whether ask can answer (an answering model is configured).</summary>
    public bool CanAnswer => this._answerer is not null;

    [KernelFunction("search")]
    [Description("Searches the knowledge base for passages relevant to a query. Returns the passages best first, each with its text, score and source (path or URI, title, section, page), or an error saying why none were found.")]
    public async Task<SearchResults> SearchAsync(
        [Description("What to look for: a question or keywords.")] string query,
        [Description("How many passages to return at most (default: the knowledge base's setting, 8 unless configured).")] int? top = null,
        [Description("Only passages whose source (file path or URI) starts with this.")] string? source = null,
        [Description("Only passages of the document with this id.")] string? documentId = null,
        CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(query))
        {
            return SearchResults.Failed("the query is empty; give a question or keywords to search for.");
        }

        if (this.OutOfRange(top) is { } wrongTop)
        {
            return SearchResults.Failed(wrongTop);
        }

        var asked = RetrievalOverrides.CallerFilter(source, documentId);
        if (this._options.Retrieval.Narrowed(top ?? this._options.Retrieval.Top, asked) is not { } retrieval)
        {
            return SearchResults.Failed(await this.ExplainNothingFoundAsync(asked, cancellationToken).ConfigureAwait(false));
        }

        return await this.FailuresAsDataAsync(
            async () =>
            {
                var passages = await this._retriever.RetrieveAsync(query, retrieval, cancellationToken).ConfigureAwait(false);
                return passages.Count == 0
                    ? SearchResults.Failed(await this.ExplainNothingFoundAsync(asked, cancellationToken, retrieval.ScoreThreshold).ConfigureAwait(false))
                    : new SearchResults([.. passages.Select((p, i) => SearchResultItem.From(p, i + 1))]);
            },
            SearchResults.Failed,
            cancellationToken).ConfigureAwait(false);
    }

    [KernelFunction("ask")]
    [Description("Answers a question from the knowledge base with the local T5Gemma 2 model, which cites the passages it used as [n]. Returns the answer with its citations (source, title, section, page, whether cited), or an error saying why there is none.")]
    public async Task<AnswerResult> AskAsync(
        [Description("The question to answer.")] string question,
        [Description("How many passages to give the model at most (default: the knowledge base's setting).")] int? top = null,
        [Description("Only use passages whose source (file path or URI) starts with this.")] string? source = null,
        [Description("Only use passages of the document with this id.")] string? documentId = null,
        [Description("An image for the question (a screenshot, a photo of a part): the image as base64, a data: URI (data:image/png;base64,...), or the path of an image file on this machine. The model sees it beside the passages; the search uses the question's text.")] string? image = null,
        CancellationToken cancellationToken = default)
    {
        if (this._answerer is null)
        {
            return AnswerResult.Failed("ask is not available: no answering model is configured (KnowledgeBaseOptions.GeneratorModelDirectory; t5rag mcp --generator). Use search and read the passages instead.");
        }

        if (string.IsNullOrWhiteSpace(question))
        {
            return AnswerResult.Failed("the question is empty; ask a question in words.");
        }

        if (this.OutOfRange(top) is { } wrongTop)
        {
            return AnswerResult.Failed(wrongTop);
        }

        var asked = RetrievalOverrides.CallerFilter(source, documentId);
        if (this._options.Retrieval.Narrowed(top ?? this._options.Retrieval.Top, asked) is not { } retrieval)
        {
            return AnswerResult.Failed(await this.ExplainNothingFoundAsync(asked, cancellationToken).ConfigureAwait(false));
        }

        var (questionImage, imageError) = string.IsNullOrWhiteSpace(image) ? (null, null) : await this.ReadImageAsync(image, cancellationToken).ConfigureAwait(false);
        if (imageError is not null)
        {
            return AnswerResult.Failed(imageError);
        }

        var options = new AskOptions
        {
            Retrieval = retrieval,
            Packing = this._options.Packing,
            Generation = this._options.Generation,
            Timeout = this._options.AnswerTimeout,
            QuestionImages = questionImage is null ? [] : [questionImage],
        };
        try
        {
            return await this.FailuresAsDataAsync(
                async () =>
                {
                    var answer = await this._answerer.AskAsync(question, options, cancellationToken).ConfigureAwait(false);
                    return new AnswerResult(answer.Text, answer.Citations, answer.TimedOut);
                },
                AnswerResult.Failed,
                cancellationToken,
                asked,
                retrieval.ScoreThreshold).ConfigureAwait(false);
        }
        catch (ArgumentException ex) when (ex.ParamName is "question" or "questionImages")
        {
            // The question does not fit the model's input budget, or the answering model takes no images.
            return AnswerResult.Failed(ex.Message.Split(" (Parameter", 2)[0]);
        }
        catch (T5RagException ex) when (ex is ImageFileException or ImagesNotSupportedException)
        {
            return AnswerResult.Failed(ex.Message);
        }
    }

    [KernelFunction("index_text")]
    [Description("Adds a text to the knowledge base so later searches find it; indexing again with the same documentId replaces it. Returns the document id (for forget_document) and what changed.")]
    public async Task<IndexResult> IndexTextAsync(
        [Description("The text to add.")] string text,
        [Description("A stable id for the document; default: one derived from the text.")] string? documentId = null,
        [Description("A title shown with its passages.")] string? title = null,
        [Description("Where the text comes from (a URL or a name), shown as its source; default: the document id.")] string? source = null,
        CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return IndexResult.Failed("the text is empty; give the text to add.");
        }

        string normalized = text.ReplaceLineEndings("\n");
        string id = string.IsNullOrWhiteSpace(documentId) ? "text-" + PassageIds.ContentHash(normalized)[..16] : documentId.Trim();
        var document = new LoadedDocument
        {
            DocumentId = id,
            Source = string.IsNullOrWhiteSpace(source) ? this._scope.DefaultSource(id) : source.Trim(),
            Title = string.IsNullOrWhiteSpace(title) ? null : title.Trim(),
            Text = normalized,
        };

        if (this._scope.RefuseWrite(id, document.Source) is { } refused)
        {
            return IndexResult.Failed(refused);
        }

        return await this.FailuresAsDataAsync(
            () => this.WriteAsync(
                async ct =>
                {
                    // Checked under the write lock, so no other call can put a document under this id in between.
                    if (await this._scope.RefuseExistingAsync(this._retriever.Collection, id, ct).ConfigureAwait(false) is { } outside)
                    {
                        return IndexResult.Failed(outside);
                    }

                    var summary = await this._pipeline.IndexDocumentsAsync(new[] { document }.ToAsyncEnumerable(), cancellationToken: ct).ConfigureAwait(false);
                    return IndexResult.From(summary, id);
                },
                cancellationToken),
            IndexResult.Failed,
            cancellationToken).ConfigureAwait(false);
    }

    [KernelFunction("index_file")]
    [Description("Adds a file, or every supported file under a folder (Markdown, text, HTML, PDF, DOCX, JSON lines), to the knowledge base. Unchanged files are skipped and changed ones replaced. Returns what changed and the files that could not be read.")]
    public async Task<IndexResult> IndexFileAsync(
        [Description("The path of the file or folder on this machine.")] string path,
        CancellationToken cancellationToken = default)
    {
        if (!this._options.ReadHostFiles)
        {
            return IndexResult.Failed(NoHostFiles);
        }

        if (string.IsNullOrWhiteSpace(path))
        {
            return IndexResult.Failed("the path is empty; give the path of a file or folder to index.");
        }

        string given = path.Trim();
        string full;
        try
        {
            full = Path.GetFullPath(given);
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
        {
            return IndexResult.Failed($"'{given}' is not a valid path.");
        }

        // Containment first, existence after: a path outside the roots gets the same answer whether or not it exists.
        if (this._roots is { } roots && !roots.Contains(full))
        {
            return IndexResult.Failed($"'{given}' is {AllowedFolders.Outside} ({string.Join(", ", roots.Roots)}).");
        }

        // Files become documents under their own paths: under a host's source prefix, only paths inside it may be
        // written (a folder's path with its separator, so "tenantA" passes the prefix "tenantA/").
        string source = PassageIds.ForFile(full) + (Directory.Exists(full) && !Path.EndsInDirectorySeparator(full) ? "/" : string.Empty);
        if (this._scope.RefuseWrite(source, source) is { } refused)
        {
            return IndexResult.Failed(refused);
        }

        if (!File.Exists(full) && !Directory.Exists(full))
        {
            return IndexResult.Failed($"no file or folder at '{given}'.");
        }

        return await this.FailuresAsDataAsync(
            async () =>
            {
                var summary = await this.WriteAsync(ct => this._pipeline.IndexFilesAsync([full], this.ReadableFolders(), cancellationToken: ct), cancellationToken).ConfigureAwait(false);
                return IndexResult.From(summary, documentId: null);
            },
            IndexResult.Failed,
            cancellationToken).ConfigureAwait(false);
    }

    [KernelFunction("forget_document")]
    [Description("Removes a document and all its passages from the knowledge base.")]
    public async Task<ForgetResult> ForgetDocumentAsync(
        [Description("The document's id: what index_text returned, or the documentId of a search result.")] string documentId,
        CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(documentId))
        {
            return new ForgetResult(documentId ?? string.Empty, false, "the document id is empty; give the documentId of a search result or what index_text returned.");
        }

        var collection = this._retriever.Collection;
        string missing = $"no document '{documentId}' in collection '{collection.Name}'{(this._scope.IsLimited ? " that this knowledge base may change" : string.Empty)}; search results show each passage's documentId.";
        return await this.FailuresAsDataAsync(
            async () =>
            {
                int removed = await this.WriteAsync(
                    async ct => await this._scope.RefuseExistingAsync(collection, documentId, ct).ConfigureAwait(false) is null
                        ? await collection.DeleteDocumentsAsync([documentId], ct).ConfigureAwait(false)
                        : 0,
                    cancellationToken).ConfigureAwait(false);

                // One answer for "not there" and "not yours", so a limited caller cannot probe other tenants' ids.
                return removed > 0 ? new ForgetResult(documentId, true) : new ForgetResult(documentId, false, missing);
            },
            error => new ForgetResult(documentId, false, error),
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// What index_file may read: the file roots, and under a host's source prefix only that prefix's folder too, so a
    /// link inside one tenant's folder cannot pull another tenant's files in under the first tenant's paths.
    /// </summary>
    private AllowedFolders? ReadableFolders()
    {
        if (this._scope.Filter.SourcePrefix is not { } prefix || !Path.IsPathFullyQualified(prefix))
        {
            return this._roots;
        }

        string folder = Path.EndsInDirectorySeparator(prefix) ? prefix : Path.GetDirectoryName(prefix) ?? prefix;
        var tenant = AllowedFolders.Create([folder]);
        return this._roots is null ? tenant : this._roots.And(tenant);
    }

    private string? OutOfRange(int? top) =>
        top is { } count && (count < 1 || count > this._options.MaxTop) ? $"top {top}: expected 1 to {this._options.MaxTop}." : null;

    private Task<string> ExplainNothingFoundAsync(PassageFilter asked, CancellationToken cancellationToken, double? scoreThreshold = null) =>
        this._scope.ExplainNothingFoundAsync(this._retriever.Collection, asked, scoreThreshold, cancellationToken);

    /// <summary>
    /// The ask call's image: base64 or a data: URI when it decodes to an image, else a path, read only inside the
    /// allowed folders (FileRoots) when they are set. The size limit holds before anything is decoded or read.
    /// </summary>
    private async Task<(PassageImage? Image, string? Error)> ReadImageAsync(string argument, CancellationToken cancellationToken)
    {
        string given = argument.Trim();
        long limit = this._options.MaxImageBytes;
        string? payload = given;
        if (given.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
        {
            int comma = given.IndexOf(',', StringComparison.Ordinal);
            if (comma < 0 || !given[..comma].EndsWith(";base64", StringComparison.OrdinalIgnoreCase))
            {
                return (null, "the image's data: URI is not base64; expected data:image/<type>;base64,<data>.");
            }

            payload = given[(comma + 1)..];
        }

        if (payload.Length > ((limit + 2) / 3 * 4) + 4)
        {
            return (null, $"the image is over the limit of {limit:N0} bytes.");
        }

        byte[] data;
        var decoded = new byte[payload.Length / 4 * 3 + 3];
        if (Convert.TryFromBase64String(payload, decoded, out int length) && ImageFormats.Sniff(decoded.AsSpan(0, length)) is not null)
        {
            data = decoded[..length];
        }
        else if (!ReferenceEquals(payload, given))
        {
            return (null, "the image's data: URI does not hold a PNG, JPEG, WebP, GIF or BMP image.");
        }
        else if (!this._options.ReadHostFiles)
        {
            return (null, "the image is not base64 of a PNG, JPEG, WebP, GIF or BMP image; " + NoHostFiles);
        }
        else
        {
            try
            {
                // The folders index_file may read (the roots, narrowed to a tenant's source folder): the same boundary.
                string full = Path.GetFullPath(given);
                var readable = this.ReadableFolders();
                data = await (readable ?? AllowedFolders.Create([Path.GetPathRoot(full)!])).ReadFileAsync(full, limit, cancellationToken).ConfigureAwait(false);
            }
            catch (DocumentLoadException ex)
            {
                // The path as the caller gave it, so a refusal tells nothing about where it really led.
                return (null, ex.Reason == AllowedFolders.Outside && this.ReadableFolders() is { } roots
                    ? $"'{given}' is {AllowedFolders.Outside} ({string.Join(", ", roots.Roots)})."
                    : $"'{given}': {ex.Reason}.");
            }
            catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
            {
                return (null, $"'{given}' is neither base64 of an image nor a valid path.");
            }
        }

        return ImageFormats.Sniff(data) is { } mediaType
            ? (new PassageImage(mediaType, data), null)
            : (null, $"'{(given.Length > 80 ? given[..80] + "…" : given)}' is not a PNG, JPEG, WebP, GIF or BMP image.");
    }

    /// <summary>
    /// Runs a call and returns, as its result's error, the failures its caller can act on: the collection belongs to
    /// another embedding model or the chat model that answers failed (the message as it is), or there was nothing to
    /// answer from (why, as for a search that finds nothing, by <paramref name="asked"/>). The rest of the family (a store that cannot be used, a model that
    /// cannot be loaded) only the host's operator can mend, so it is thrown.
    /// </summary>
    private async Task<T> FailuresAsDataAsync<T>(Func<Task<T>> call, Func<string, T> failed, CancellationToken cancellationToken, PassageFilter? asked = null, double? scoreThreshold = null)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (T5RagException ex) when (ex.Kind is FailureKind.ModelMismatch or FailureKind.NoPassages or FailureKind.AnswererUnavailable)
        {
            return failed(ex.Kind is FailureKind.NoPassages && asked is not null
                ? await this.ExplainNothingFoundAsync(asked, cancellationToken, scoreThreshold).ConfigureAwait(false)
                : ex.Message);
        }
    }

    private async Task<T> WriteAsync<T>(Func<CancellationToken, Task<T>> write, CancellationToken cancellationToken)
    {
        await this._writes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await write(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            this._writes.Release();
        }
    }
}
