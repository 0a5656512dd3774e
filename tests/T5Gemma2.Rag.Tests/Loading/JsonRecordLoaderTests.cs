using System.IO.Compression;
using System.Text;
using T5Gemma2.Rag.Indexer.Documents;
using T5Gemma2.Rag.Indexer.Loading;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Loading;

public sealed class JsonRecordLoaderTests
{
    private const string BeirCorpus = """
        {"_id": "doc1", "title": "Aspirin", "text": "Aspirin is a medication.\r\nIt reduces pain."}
        {"_id": "doc2", "title": "", "text": "Ibuprofen is another one."}
        {"_id": 17, "text": "A numeric id."}
        """;

    [Fact]
    public async Task ABeirCorpusReadsAsItIsWithQualifiedOrBareIds()
    {
        using var temp = new TempDirectory();
        string path = temp.Write("scifact/corpus.jsonl", BeirCorpus);

        var qualified = await LoaderAssert.LoadAsync(new JsonRecordLoader(), path, "scifact/corpus.jsonl");
        var bare = await LoaderAssert.LoadAsync(new JsonRecordLoader(new JsonRecordLoaderOptions { QualifyIds = false }), path);

        Assert.Equal(["scifact/corpus.jsonl#doc1", "scifact/corpus.jsonl#doc2", "scifact/corpus.jsonl#17"], qualified.Select(d => LoaderAssert.UnderTemp(temp, d.DocumentId)));
        Assert.Equal(["doc1", "doc2", "17"], bare.Select(d => LoaderAssert.UnderTemp(temp, d.DocumentId)));
        Assert.Equal("Aspirin", qualified[0].Title);
        Assert.Null(qualified[1].Title);
        Assert.Equal("Aspirin is a medication.\nIt reduces pain.", qualified[0].Text);
        Assert.Equal(new DocumentSection(0, qualified[0].Text.Length), Assert.Single(qualified[0].Sections));
        Assert.All(qualified, d => Assert.Equal(path, d.Source));
    }

    [Fact]
    public async Task BadLinesAreSkippedAndReportedWhileGoodOnesLoad()
    {
        using var temp = new TempDirectory();
        string path = temp.Write("mixed.jsonl", string.Join('\n',
            "{\"text\": \"no id: takes the line number\"}",
            "{\"_id\": \"x\", \"text\": ",
            "{\"_id\": \"y\", \"body\": \"text under another name\"}",
            "   ",
            "{\"_id\": \"z\", \"text\": 42}",
            "[1, 2]",
            "{\"_id\": {\"nested\": true}, \"text\": \"object id\"}",
            "{\"_id\": \"last\", \"text\": \"fine\"}",
            string.Empty));
        var skipped = new List<SkippedRecord>();
        var loader = new JsonRecordLoader(new JsonRecordLoaderOptions { RecordSkipped = skipped.Add });

        var documents = await LoaderAssert.LoadAsync(loader, path);

        Assert.Equal(["mixed.jsonl#1", "mixed.jsonl#last"], documents.Select(d => LoaderAssert.UnderTemp(temp, d.DocumentId)));
        Assert.Equal(["line 2", "line 3", "line 5", "line 6", "line 7"], skipped.Select(s => s.Location));
        Assert.All(skipped, s => Assert.Equal(path, s.Path));
        Assert.StartsWith("invalid JSON (", skipped[0].Reason, StringComparison.Ordinal);
        Assert.Equal("no \"text\" field; expected the record's text there", skipped[1].Reason);
        Assert.Equal("\"text\" is a number; expected a string", skipped[2].Reason);
        Assert.Equal("not a JSON object (an array); expected one record object", skipped[3].Reason);
        Assert.Equal("\"_id\" is an object; expected a string or a number", skipped[4].Reason);
        Assert.Equal($"{path}: line 3: no \"text\" field; expected the record's text there", skipped[1].ToString());
    }

    [Fact]
    public async Task BadLinesBeforeTheFirstGoodOneAreReportedInOrderOnceItArrives()
    {
        using var temp = new TempDirectory();
        string path = temp.Write("late.jsonl", "not json\n{}\n{\"_id\": \"a\", \"text\": \"good\"}\nbad again\n");
        var events = new List<string>();
        var loader = new JsonRecordLoader(new JsonRecordLoaderOptions { RecordSkipped = s => events.Add(s.Location) });

        await foreach (var document in loader.LoadAsync(new DocumentFile(path, "late.jsonl"), TestContext.Current.CancellationToken))
        {
            events.Add(LoaderAssert.UnderTemp(temp, document.DocumentId));
        }

        Assert.Equal(["line 1", "line 2", "late.jsonl#a", "line 4"], events);
    }

    [Fact]
    public async Task AFileWithNoValidRecordIsOneDocumentLoadExceptionAndNoSkippedReports()
    {
        using var temp = new TempDirectory();
        string path = temp.Write("wrong.jsonl", "id,text\n1,hello\n2,world\n");
        var skipped = new List<SkippedRecord>();

        var ex = await LoaderAssert.FailsAsync(new JsonRecordLoader(new JsonRecordLoaderOptions { RecordSkipped = skipped.Add }), path);

        Assert.StartsWith("no valid record among 3; line 1: invalid JSON (", ex.Reason, StringComparison.Ordinal);
        Assert.Empty(skipped);
    }

    [Fact]
    public async Task ManyBadRecordsBeforeAnyGoodOneStopTheFileEarly()
    {
        using var temp = new TempDirectory();
        var lines = Enumerable.Repeat("{\"no\": \"text\"}", JsonRecordLoader.MaxLeadingBadRecords).Append("{\"text\": \"too late\"}");
        string path = temp.Write("bad-start.jsonl", string.Join('\n', lines));

        var ex = await LoaderAssert.FailsAsync(new JsonRecordLoader(), path);

        Assert.StartsWith($"the first {JsonRecordLoader.MaxLeadingBadRecords} records are all invalid; line 1: no \"text\" field", ex.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GzipCompressedJsonLinesStream()
    {
        using var temp = new TempDirectory();
        string path = temp.Combine("corpus.jsonl.gz");
        await WriteGzipAsync(path, BeirCorpus);

        var documents = await LoaderAssert.LoadAsync(new JsonRecordLoader(new JsonRecordLoaderOptions { QualifyIds = false }), path);

        Assert.Equal(["doc1", "doc2", "17"], documents.Select(d => LoaderAssert.UnderTemp(temp, d.DocumentId)));
    }

    [Fact]
    public async Task APlainFileNamedGzIsADocumentLoadException()
    {
        using var temp = new TempDirectory();
        string path = temp.Write("corpus.jsonl.gz", BeirCorpus);

        var ex = await LoaderAssert.FailsAsync(new JsonRecordLoader(), path);

        Assert.Contains("expected gzip-compressed JSON lines", ex.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DamagedGzipKeepsTheRecordsBeforeTheDamageAndReportsTheRest()
    {
        using var temp = new TempDirectory();
        byte[] bytes = await GzipOfManyRecordsAsync(temp);
        for (int i = bytes.Length / 2; i < bytes.Length / 2 + 64; i++)
        {
            bytes[i] ^= 0x5A;
        }

        string path = temp.Combine("damaged.jsonl.gz");
        await File.WriteAllBytesAsync(path, bytes, TestContext.Current.CancellationToken);
        var skipped = new List<SkippedRecord>();

        var documents = await LoaderAssert.LoadAsync(new JsonRecordLoader(new JsonRecordLoaderOptions { RecordSkipped = skipped.Add }), path);

        Assert.InRange(documents.Count, 1000, 19_999);
        Assert.Equal(Enumerable.Range(0, documents.Count).Select(i => $"damaged.jsonl.gz#{i}"), documents.Select(d => LoaderAssert.UnderTemp(temp, d.DocumentId)));
        var rest = skipped[^1];
        Assert.StartsWith("the rest of the file is unreadable: damaged or not gzip data", rest.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TruncatedGzipEndsWithThePartialRecordSkipped()
    {
        using var temp = new TempDirectory();
        byte[] bytes = await GzipOfManyRecordsAsync(temp);
        string path = temp.Combine("cut.jsonl.gz");
        await File.WriteAllBytesAsync(path, bytes[..(bytes.Length * 3 / 4)], TestContext.Current.CancellationToken);
        var skipped = new List<SkippedRecord>();

        var documents = await LoaderAssert.LoadAsync(new JsonRecordLoader(new JsonRecordLoaderOptions { RecordSkipped = skipped.Add }), path);

        // .NET's GZipStream ends quietly at a cut; the cut line is the one bad record.
        Assert.InRange(documents.Count, 1000, 19_999);
        Assert.Equal(Enumerable.Range(0, documents.Count).Select(i => $"cut.jsonl.gz#{i}"), documents.Select(d => LoaderAssert.UnderTemp(temp, d.DocumentId)));
        var partial = Assert.Single(skipped);
        Assert.Equal($"line {documents.Count + 1}", partial.Location);
        Assert.StartsWith("invalid JSON", partial.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task JsonFilesHoldAnArrayOfRecordsOrOneRecord()
    {
        using var temp = new TempDirectory();
        string array = temp.Write("records.json", """
            [
              {"id": "a", "name": "First", "body": "first body"},
              "not an object",
              {"name": "no id", "body": "takes the index"},
            ]
            """);
        string single = temp.Write("one.json", """{"body": "the only record", "name": "Solo"}""");
        var skipped = new List<SkippedRecord>();
        var loader = new JsonRecordLoader(new JsonRecordLoaderOptions { TextField = "body", IdField = "id", TitleField = "name", RecordSkipped = skipped.Add });

        var fromArray = await LoaderAssert.LoadAsync(loader, array);
        var fromSingle = await LoaderAssert.LoadSingleAsync(loader, single);

        Assert.Equal(["records.json#a", "records.json#2"], fromArray.Select(d => LoaderAssert.UnderTemp(temp, d.DocumentId)));
        Assert.Equal(["First", "no id"], fromArray.Select(d => d.Title));
        Assert.Equal("index 1", Assert.Single(skipped).Location);
        Assert.Equal(("one.json#0", "Solo", "the only record"), (LoaderAssert.UnderTemp(temp, fromSingle.DocumentId), fromSingle.Title, fromSingle.Text));
    }

    [Fact]
    public async Task InvalidJsonFilesAndWrongRootsAreDocumentLoadExceptions()
    {
        using var temp = new TempDirectory();
        string broken = temp.Write("broken.json", "[{\"text\": \"a\"}");
        string scalar = temp.Write("scalar.json", "\"just a string\"");
        string badObject = temp.Write("bad-object.json", "{\"title\": \"no text\"}");

        Assert.Contains("invalid JSON", (await LoaderAssert.FailsAsync(new JsonRecordLoader(), broken)).Reason, StringComparison.Ordinal);
        Assert.Equal("the JSON is a string; expected an array of records or one record object", (await LoaderAssert.FailsAsync(new JsonRecordLoader(), scalar)).Reason);
        Assert.Contains("no \"text\" field", (await LoaderAssert.FailsAsync(new JsonRecordLoader(), badObject)).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidUtf8InALineIsReplacedAndCountedOnItsRecord()
    {
        using var temp = new TempDirectory();
        string path = temp.Combine("latin1.jsonl");
        byte[] bytes = [.. "{\"_id\": \"1\", \"text\": \"caf"u8, 0xE9, .. " ok\"}\n{\"_id\": \"2\", \"text\": \"clean\"}\n"u8];
        await File.WriteAllBytesAsync(path, bytes, TestContext.Current.CancellationToken);

        var documents = await LoaderAssert.LoadAsync(new JsonRecordLoader(), path);

        Assert.Equal("caf\uFFFD ok", documents[0].Text);
        Assert.Equal([1, 0], documents.Select(d => d.ReplacedCharacters));
    }

    [Fact]
    public async Task ALineOverTheLimitIsSkippedWithoutLosingTheNextOnes()
    {
        using var temp = new TempDirectory();
        string longLine = "{\"_id\": \"big\", \"text\": \"" + new string('x', 10_000) + "\"}";
        string path = temp.Write("limits.jsonl", $"{{\"_id\": \"a\", \"text\": \"small\"}}\n{longLine}\n{{\"_id\": \"b\", \"text\": \"after\"}}");
        var skipped = new List<SkippedRecord>();
        var loader = new JsonRecordLoader(new JsonRecordLoaderOptions { MaxRecordBytes = 1000, RecordSkipped = skipped.Add });

        var documents = await LoaderAssert.LoadAsync(loader, path);

        Assert.Equal(["limits.jsonl#a", "limits.jsonl#b"], documents.Select(d => LoaderAssert.UnderTemp(temp, d.DocumentId)));
        Assert.Equal(("line 2", "longer than 1000 bytes; expected one JSON record per line"), (skipped.Single().Location, skipped.Single().Reason));
    }

    [Fact]
    public async Task AFiveMegabyteRecordOnOneLineLoads()
    {
        using var temp = new TempDirectory();
        string big = string.Concat(Enumerable.Repeat("word ", 1_000_000));
        string path = temp.Write("big.jsonl", $"{{\"_id\": \"big\", \"text\": \"{big}\"}}\n{{\"_id\": \"small\", \"text\": \"s\"}}\n");

        var documents = await LoaderAssert.LoadAsync(new JsonRecordLoader(), path);

        Assert.Equal(big, documents[0].Text);
        Assert.Equal("s", documents[1].Text);
    }

    [Fact]
    public async Task EmptyUtf16AndBinaryFiles()
    {
        using var temp = new TempDirectory();
        string empty = temp.Write("empty.jsonl", string.Empty);
        string blank = temp.Write("blank.json", "  \n");
        string utf16 = temp.Combine("utf16.jsonl");
        await File.WriteAllBytesAsync(utf16, [.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes("{\"text\": \"a\"}")], TestContext.Current.CancellationToken);
        string binary = temp.Combine("binary.jsonl");
        await File.WriteAllBytesAsync(binary, PdfLoaderTests.RandomBytes(1000, seed: 3).Append((byte)0).ToArray(), TestContext.Current.CancellationToken);

        Assert.Empty(await LoaderAssert.LoadAsync(new JsonRecordLoader(), empty));
        Assert.Empty(await LoaderAssert.LoadAsync(new JsonRecordLoader(), blank));
        Assert.Equal("UTF-16 text; expected UTF-8 JSON lines (RFC 8259)", (await LoaderAssert.FailsAsync(new JsonRecordLoader(), utf16)).Reason);
        Assert.Equal("binary content (NUL bytes); expected UTF-8 JSON lines", (await LoaderAssert.FailsAsync(new JsonRecordLoader(), binary)).Reason);
    }

    [Fact]
    public async Task AUtf8ByteOrderMarkAndCrlfLineEndsAreAccepted()
    {
        using var temp = new TempDirectory();
        string path = temp.Combine("windows.jsonl");
        await File.WriteAllBytesAsync(path, [0xEF, 0xBB, 0xBF, .. "{\"_id\":\"a\",\"text\":\"one\"}\r\n{\"_id\":\"b\",\"text\":\"two\"}\r\n"u8], TestContext.Current.CancellationToken);

        var documents = await LoaderAssert.LoadAsync(new JsonRecordLoader(), path);

        Assert.Equal(["one", "two"], documents.Select(d => d.Text));
    }

    private static async Task<byte[]> GzipOfManyRecordsAsync(TempDirectory temp)
    {
        var text = new StringBuilder();
        for (int i = 0; i < 20_000; i++)
        {
            text.Append("{\"_id\": \"").Append(i).Append("\", \"text\": \"record number ").Append(i * 7919).Append("\"}\n");
        }

        string whole = temp.Combine("whole.jsonl.gz");
        await WriteGzipAsync(whole, text.ToString());
        return await File.ReadAllBytesAsync(whole, TestContext.Current.CancellationToken);
    }

    private static async Task WriteGzipAsync(string path, string content)
    {
        await using var file = File.Create(path);
        await using var gzip = new GZipStream(file, CompressionLevel.Optimal);
        await gzip.WriteAsync(Encoding.UTF8.GetBytes(content), TestContext.Current.CancellationToken);
    }
}
