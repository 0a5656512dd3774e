using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Unicode;
using T5Gemma2.Rag.Indexer.Documents;

namespace T5Gemma2.Rag.Indexer.Loading;

/// <summary>
/// Reads record files, one <see cref="LoadedDocument"/> per record: JSON lines (.jsonl, .ndjson, and gzip-compressed
/// .jsonl.gz) streamed line by line, and .json files holding an array of records or one record object (read whole; use
/// JSON lines for large corpora). The fields come from <see cref="JsonRecordLoaderOptions"/>; a BEIR corpus.jsonl reads
/// as it is. The text is the text field alone (the title is <see cref="LoadedDocument.Title"/>).
/// </summary>
/// <remarks>
/// A bad record (invalid JSON, not an object, no string text field, a line over the size limit) does not fail the file:
/// it is skipped and passed to <see cref="JsonRecordLoaderOptions.RecordSkipped"/>, as is the rest of a file that breaks
/// off (damaged gzip, I/O error) after good records. A file whose records are all bad — or whose first
/// <see cref="MaxLeadingBadRecords"/> records are — throws one <see cref="DocumentLoadException"/> naming the first bad
/// record, and its bad records are not passed to the callback. Blank lines are ignored; an empty file has no records.
/// JSON lines must be UTF-8 (RFC 8259): a UTF-16 file is refused, and invalid bytes become U+FFFD, counted in the
/// record's <see cref="LoadedDocument.ReplacedCharacters"/>.
/// </remarks>
public sealed class JsonRecordLoader : IDocumentLoader
{
    /// <summary>Bad records accepted before the first good one; past this the file is taken to be in another format.</summary>
    public const int MaxLeadingBadRecords = 1000;

    private static readonly string[] s_extensions = [".jsonl", ".ndjson", ".jsonl.gz", ".json"];

    private static readonly JsonDocumentOptions s_jsonOptions = new() { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip };

    private readonly JsonRecordLoaderOptions _options;

    public JsonRecordLoader(JsonRecordLoaderOptions? options = null)
    {
        this._options = options ?? new JsonRecordLoaderOptions();
        ArgumentException.ThrowIfNullOrEmpty(this._options.TextField, nameof(options));
        ArgumentException.ThrowIfNullOrEmpty(this._options.IdField, nameof(options));
        ArgumentException.ThrowIfNullOrEmpty(this._options.TitleField, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(this._options.MaxRecordBytes, 1, nameof(options));
    }

    /// <inheritdoc/>
    public IReadOnlyCollection<string> Extensions => s_extensions;

    /// <inheritdoc/>
    public IAsyncEnumerable<LoadedDocument> LoadAsync(DocumentFile file, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(file);
        return file.FullPath.EndsWith(".json", StringComparison.OrdinalIgnoreCase)
            ? this.LoadJsonAsync(file, cancellationToken)
            : this.LoadJsonLinesAsync(file, cancellationToken);
    }

    private async IAsyncEnumerable<LoadedDocument> LoadJsonLinesAsync(DocumentFile file, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        bool gzip = file.FullPath.EndsWith(".gz", StringComparison.OrdinalIgnoreCase);
        var fileStream = LoaderIO.OpenRead(file);
        await using var fileScope = fileStream.ConfigureAwait(false);
        var stream = gzip ? new GZipStream(fileStream, CompressionMode.Decompress, leaveOpen: true) : (Stream)fileStream;
        await using var streamScope = stream.ConfigureAwait(false);
        var reader = new Utf8LineReader(stream, this._options.MaxRecordBytes);
        var skips = new Skips(file.Source, this._options.RecordSkipped);

        var (head, headError) = await TryAsync(() => reader.PeekAsync(TextDecoder.BinaryProbeBytes, cancellationToken)).ConfigureAwait(false);
        if (headError is not null)
        {
            throw Broken(file.Source, gzip, headError);
        }

        CheckHead(file.Source, head.Span);
        while (true)
        {
            var ((found, line), error) = await TryAsync(() => reader.ReadLineAsync(cancellationToken)).ConfigureAwait(false);
            if (error is not null)
            {
                // A damaged stream cannot be resynchronised: what came before stands, the rest is one skipped "record".
                var broken = Broken(file.Source, gzip, error);
                skips.Skip($"line {reader.LineNumber + 1}", $"the rest of the file is unreadable: {broken.Reason}", broken);
                break;
            }

            if (!found)
            {
                break;
            }

            string location = $"line {reader.LineNumber}";
            if (reader.TooLong)
            {
                skips.Skip(location, $"longer than {this._options.MaxRecordBytes} bytes; expected one JSON record per line");
                continue;
            }

            var bytes = reader.LineNumber == 1 && line.Span.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? line[3..] : line;
            if (bytes.Span.Trim(" \t"u8).IsEmpty)
            {
                continue;
            }

            if (this.TryParseLine(file, bytes, reader.LineNumber.ToString(System.Globalization.CultureInfo.InvariantCulture), out var document, out string? reason))
            {
                skips.Accept();
                yield return document;
            }
            else
            {
                skips.Skip(location, reason);
            }
        }

        skips.Finish();
    }

    private async IAsyncEnumerable<LoadedDocument> LoadJsonAsync(DocumentFile file, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var decoded = await TextDecoder.ReadFileAsync(file, cancellationToken).ConfigureAwait(false);
        if (string.IsNullOrWhiteSpace(decoded.Text))
        {
            yield break;
        }

        JsonDocument json;
        try
        {
            json = JsonDocument.Parse(decoded.Text, s_jsonOptions);
        }
        catch (JsonException ex)
        {
            throw LoaderIO.Invalid(file.Source, "invalid JSON; expected an array of records or one record object", ex);
        }

        using (json)
        {
            var root = json.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                yield return this.TryRead(file, root, "0", decoded.ReplacedCharacters > 0, out var single, out string? reason)
                    ? single
                    : throw new DocumentLoadException(file.Source, $"the record object is not valid: {reason}");
                yield break;
            }

            if (root.ValueKind != JsonValueKind.Array)
            {
                throw new DocumentLoadException(file.Source, $"the JSON is {Describe(root.ValueKind)}; expected an array of records or one record object");
            }

            var skips = new Skips(file.Source, this._options.RecordSkipped);
            int index = 0;
            foreach (var element in root.EnumerateArray())
            {
                cancellationToken.ThrowIfCancellationRequested();
                string position = index.ToString(System.Globalization.CultureInfo.InvariantCulture);
                index++;
                if (this.TryRead(file, element, position, decoded.ReplacedCharacters > 0, out var document, out string? reason))
                {
                    skips.Accept();
                    yield return document;
                }
                else
                {
                    skips.Skip($"index {position}", reason);
                }
            }

            skips.Finish();
        }
    }

    private bool TryParseLine(DocumentFile file, ReadOnlyMemory<byte> bytes, string defaultId, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out LoadedDocument? document, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? reason)
    {
        int replaced = 0;
        JsonDocument json;
        try
        {
            if (Utf8.IsValid(bytes.Span))
            {
                json = JsonDocument.Parse(bytes, s_jsonOptions);
            }
            else
            {
                var decoded = TextDecoder.DecodeUtf8(bytes.Span);
                replaced = decoded.ReplacedCharacters;
                json = JsonDocument.Parse(decoded.Text, s_jsonOptions);
            }
        }
        catch (JsonException ex)
        {
            document = null;
            reason = $"invalid JSON ({LoaderIO.FirstLine(ex.Message)}); expected one JSON object per line";
            return false;
        }

        using (json)
        {
            if (!this.TryRead(file, json.RootElement, defaultId, countReplacements: false, out document, out reason))
            {
                return false;
            }
        }

        if (replaced > 0)
        {
            document = new LoadedDocument
            {
                DocumentId = document.DocumentId,
                Source = document.Source,
                Title = document.Title,
                Text = document.Text,
                Sections = document.Sections,
                ReplacedCharacters = replaced,
            };
        }

        return true;
    }

    /// <summary>Reads one record object; the reason says what was wrong when it is not a valid record.</summary>
    private bool TryRead(DocumentFile file, JsonElement record, string defaultId, bool countReplacements, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out LoadedDocument? document, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? reason)
    {
        document = null;
        if (record.ValueKind != JsonValueKind.Object)
        {
            reason = $"not a JSON object ({Describe(record.ValueKind)}); expected one record object";
            return false;
        }

        if (!record.TryGetProperty(this._options.TextField, out var textValue))
        {
            reason = $"no \"{this._options.TextField}\" field; expected the record's text there";
            return false;
        }

        if (textValue.ValueKind != JsonValueKind.String)
        {
            reason = $"\"{this._options.TextField}\" is {Describe(textValue.ValueKind)}; expected a string";
            return false;
        }

        string id = defaultId;
        if (record.TryGetProperty(this._options.IdField, out var idValue))
        {
            switch (idValue.ValueKind)
            {
                case JsonValueKind.String when idValue.GetString() is { Length: > 0 } idText:
                    id = idText;
                    break;
                case JsonValueKind.Number:
                    id = idValue.GetRawText();
                    break;
                case JsonValueKind.Null or JsonValueKind.String:
                    break;
                default:
                    reason = $"\"{this._options.IdField}\" is {Describe(idValue.ValueKind)}; expected a string or a number";
                    return false;
            }
        }

        string text = TextDecoder.NormalizeLineEnds(textValue.GetString()!);
        string? title = record.TryGetProperty(this._options.TitleField, out var titleValue) && titleValue.ValueKind == JsonValueKind.String
            ? titleValue.GetString()
            : null;
        document = new LoadedDocument
        {
            DocumentId = this._options.QualifyIds ? $"{file.DocumentId}#{id}" : id,
            Source = file.Source,
            Title = string.IsNullOrWhiteSpace(title) ? null : title,
            Text = text,
            Sections = text.Length == 0 ? [] : [new DocumentSection(0, text.Length)],
            ReplacedCharacters = countReplacements ? text.Count(c => c == '\uFFFD') : 0,
        };
        reason = null;
        return true;
    }

    /// <summary>A UTF-16 byte order mark or NUL bytes at the start mean this is not UTF-8 JSON lines.</summary>
    private static void CheckHead(string path, ReadOnlySpan<byte> head)
    {
        if (head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]) || head.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]))
        {
            throw new DocumentLoadException(path, "UTF-16 text; expected UTF-8 JSON lines (RFC 8259)");
        }

        if (head.Contains((byte)0))
        {
            throw new DocumentLoadException(path, "binary content (NUL bytes); expected UTF-8 JSON lines");
        }
    }

    private static DocumentLoadException Broken(string path, bool gzip, Exception ex) => ex switch
    {
        InvalidDataException when gzip => LoaderIO.Invalid(path, "damaged or not gzip data; expected gzip-compressed JSON lines", ex),
        _ => LoaderIO.Unreadable(path, ex),
    };

    private static async Task<(T Value, Exception? Error)> TryAsync<T>(Func<ValueTask<T>> read)
    {
        try
        {
            return (await read().ConfigureAwait(false), null);
        }
        catch (Exception ex) when (ex is InvalidDataException || LoaderIO.IsFileProblem(ex))
        {
            return (default!, ex);
        }
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    /// <summary>
    /// Holds skipped records back until the file has shown a valid one, then reports them in file order; throws when a
    /// file has none (or too many bad ones before the first), so a wrong-format file is one error.
    /// </summary>
    private sealed class Skips(string path, Action<SkippedRecord>? report)
    {
        private readonly List<(SkippedRecord Record, Exception? Cause)> _held = [];
        private bool _accepted;

        public void Skip(string location, string reason, Exception? cause = null)
        {
            var record = new SkippedRecord(path, location, reason);
            if (this._accepted)
            {
                report?.Invoke(record);
                return;
            }

            this._held.Add((record, cause));
            if (this._held.Count >= MaxLeadingBadRecords)
            {
                throw this.NoValidRecord($"the first {MaxLeadingBadRecords} records are all invalid");
            }
        }

        public void Accept()
        {
            if (this._accepted)
            {
                return;
            }

            this._accepted = true;
            foreach (var (record, _) in this._held)
            {
                report?.Invoke(record);
            }

            this._held.Clear();
        }

        public void Finish()
        {
            if (!this._accepted && this._held.Count > 0)
            {
                throw this.NoValidRecord(this._held.Count == 1 ? "no valid record" : $"no valid record among {this._held.Count}");
            }
        }

        private DocumentLoadException NoValidRecord(string summary)
        {
            var (first, cause) = this._held[0];
            return new DocumentLoadException(path, $"{summary}; {first.Location}: {first.Reason}", cause);
        }
    }
}
