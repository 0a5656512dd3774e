using System.Text.Json.Nodes;
using T5Gemma2.Rag.Cli;
using T5Gemma2.Rag.Tests.Infrastructure;
using T5Gemma2.Rag.Tests.Pipeline;

namespace T5Gemma2.Rag.Tests.Cli;

/// <summary>
/// The sentence-transformers layouts through the CLI (create-random and convert: ModelLayoutCommandTests): embed with
/// a named prompt and fewer dimensions, and collections that record their vector length and prompts and refuse vectors made otherwise.
/// </summary>
public sealed class EmbeddingLayoutCommandTests(SharedTinySentenceTransformers layouts) : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        this._directory.Dispose();
    }

    [Fact]
    public async Task EmbedNamesAnUnknownPromptOrLengthInOneLineWithExitThree()
    {
        string model = layouts.EmbeddingGemma.OutputDirectory;

        var (prompt, _, promptError) = await CliRunner.RunAsync("embed", "--model", model, "--prompt", "Questions", "x");
        var (length, _, lengthError) = await CliRunner.RunAsync("embed", "--model", model, "--dimensions", "32", "x");
        var (cut, cutOutput, _) = await CliRunner.RunAsync("embed", "--model", model, "--dimensions", "8", "--prompt", "Clustering", "x");

        Assert.Equal(ExitCodes.InputError, prompt);
        Assert.Contains("has no prompt 'Questions'; expected one of [", Assert.Single(promptError.Trim().Split('\n')), StringComparison.Ordinal);
        Assert.Equal(ExitCodes.InputError, length);
        Assert.Contains("cannot make 32-dimension vectors", Assert.Single(lengthError.Trim().Split('\n')), StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Success, cut);
        Assert.StartsWith("dimensions: 8", cutOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACollectionRecordsItsLengthAndPromptsAndRefusesVectorsMadeOtherwise()
    {
        string model = layouts.EmbeddingGemma.OutputDirectory;
        string docs = this._directory.Combine("docs");
        var records = TestCorpus.Records(4);
        TestCorpus.WriteMarkdown(docs, records);
        string store = this._directory.Combine("store");

        var (indexed, _, indexError) = await CliRunner.RunAsync("index", docs, "--store", store, "--model", model, "--dimensions", "8");
        Assert.True(indexed == ExitCodes.Success, indexError);
        var (_, shown, _) = await CliRunner.RunAsync("collections", "info", "--store", store);
        Assert.Contains("(8 dimensions)", shown, StringComparison.Ordinal);
        Assert.Contains("prompts: query \"task: search result | query: \"; passage \"title: none | text: \"", shown, StringComparison.Ordinal);

        var (found, output, _) = await CliRunner.RunAsync("search", records[2].Title, "--store", store, "--model", model, "--dimensions", "8", "--mode", "dense", "--top", "1");
        // Random weights rank at random; what counts is that an 8-dimension query searches the 8-dimension collection.
        Assert.Equal(ExitCodes.Success, found);
        Assert.Contains(".md", output, StringComparison.Ordinal);

        // Without --dimensions the search takes the collection's recorded 8; the full 16 given explicitly: the mismatch line, exit 3.
        Assert.Equal(ExitCodes.Success, (await CliRunner.RunAsync("search", records[2].Title, "--store", store, "--model", model, "--mode", "dense")).ExitCode);
        var (full, _, fullError) = await CliRunner.RunAsync("search", records[2].Title, "--store", store, "--model", model, "--dimensions", "16");
        Assert.Equal(ExitCodes.InputError, full);
        Assert.StartsWith("t5rag: collection 'default' holds 8-dimension vectors of model 't5rag/random-embeddinggemma-tiny'; the model given makes 16-dimension vectors", Assert.Single(fullError.Trim().Split('\n')), StringComparison.Ordinal);

        // Another passage prompt (a t5rag.json override) is refused too: the new passages would not match the old.
        string other = ModelDirectoryCopy.AllFiles(model, this._directory.Combine("other-model"));

        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(other, "t5rag.json")))!.AsObject();
        manifest["passage_prefix"] = "title: unknown | text: ";
        File.WriteAllText(Path.Combine(other, "t5rag.json"), manifest.ToJsonString());
        var (prompted, _, promptError) = await CliRunner.RunAsync("index", docs, "--store", store, "--model", other, "--dimensions", "8");
        Assert.Equal(ExitCodes.InputError, prompted);
        // The cut is warned about first (the tiny model lists no Matryoshka dimensions); the refusal is the last line.
        Assert.Contains("with the passage prompt \"title: none | text: \"; the model given uses \"title: unknown | text: \"", promptError.Trim().Split('\n')[^1], StringComparison.Ordinal);
    }
}
