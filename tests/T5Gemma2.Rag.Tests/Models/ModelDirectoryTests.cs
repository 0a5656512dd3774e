using T5Gemma2.Rag.Encoder;
using T5Gemma2.Rag.Encoder.Embeddings;
using T5Gemma2.Rag.Encoder.Models;
using T5Gemma2.Rag.Encoder.Onnx;
using T5Gemma2.Rag.Encoder.Onnx.Graph;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Models;

/// <summary>A model directory describes itself; every broken one gives one line naming the file and what was expected.</summary>
public sealed class ModelDirectoryTests
{
    [Fact]
    public void MiniLmDirectoryReadsAsSentenceTransformersSaysIt()
    {
        var sut = ModelDirectory.Open(TestAssets.MiniLmDirectory);

        Assert.Equal(ModelKind.BertSentenceTransformer, sut.Kind);
        Assert.Equal(256, sut.MaxLength);           // sentence_bert_config.json max_seq_length
        Assert.Equal(PoolingMode.Mean, sut.Pooling); // 1_Pooling/config.json
        Assert.True(sut.Normalize);                  // modules.json has a Normalize module
        Assert.True(sut.LowerCase);                  // tokenizer_config.json do_lower_case
        Assert.Equal(384, sut.HiddenSize);
        Assert.EndsWith(Path.Combine("onnx", "model.onnx"), sut.EncoderGraphPath, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TheTransformerModulesDoLowerCaseLowerCasesTheTextBeforeACasedTokenizer(bool moduleLowerCase)
    {
        // A cased WordPiece tokenizer; sentence_bert_config.json's do_lower_case lower-cases the text first (and strips no accents).
        using var temp = new TempDirectory();
        string directory = ModelDirectoryCopy.OfMiniLm(temp);
        File.WriteAllText(Path.Combine(directory, "tokenizer_config.json"), """{"do_lower_case": false, "model_max_length": 512}""");
        File.WriteAllText(Path.Combine(directory, "sentence_bert_config.json"), $$"""{"max_seq_length": 256, "do_lower_case": {{(moduleLowerCase ? "true" : "false")}}}""");

        var sut = ModelDirectory.Open(directory);
        using var generator = OnnxEmbeddingGenerator.Create(directory);
        var vectors = await generator.GenerateAsync(["Hello World", "hello world"], cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(moduleLowerCase, sut.LowerCase);
        Assert.False(sut.StripAccents);
        Assert.Equal(moduleLowerCase, vectors[0].Vector.Span.SequenceEqual(vectors[1].Vector.Span));
    }

    [Fact]
    public void ManifestOverridesThePublishersFiles()
    {
        using var temp = new TempDirectory();
        string directory = ModelDirectoryCopy.OfMiniLm(temp);
        File.WriteAllText(Path.Combine(directory, ModelDirectory.ManifestFileName), """{"pooling": "cls", "normalize": false, "max_length": 128, "query_prefix": "q: "}""");

        var sut = ModelDirectory.Open(directory);

        Assert.Equal(PoolingMode.Cls, sut.Pooling);
        Assert.False(sut.Normalize);
        Assert.Equal(128, sut.MaxLength);
        Assert.Equal("q: ", sut.QueryPrefix);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public void MaxLengthTooShortForTextIsRefused(int maxLength)
    {
        using var temp = new TempDirectory();
        string directory = ModelDirectoryCopy.OfMiniLm(temp);
        string manifest = Path.Combine(directory, ModelDirectory.ManifestFileName);
        File.WriteAllText(manifest, $"{{\"max_length\": {maxLength}}}");

        var error = Assert.Throws<ModelFileException>(() => ModelDirectory.Open(directory));

        Assert.Equal(manifest, error.FilePath);
    }

    [Fact]
    public void AFileGivenAsTheDirectoryIsNamed()
    {
        string file = Path.Combine(TestAssets.MiniLmDirectory, "config.json");

        var error = Assert.Throws<ModelFileException>(() => ModelDirectory.Open(file));

        Assert.Contains("is a file", error.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void ATokenizerConfigOfTheWrongShapeDoesNotCrash()
    {
        using var temp = new TempDirectory();
        string directory = ModelDirectoryCopy.OfMiniLm(temp);
        File.WriteAllText(Path.Combine(directory, "tokenizer_config.json"), "[1, 2]");

        var sut = ModelDirectory.Open(directory);

        Assert.Equal(ModelKind.BertSentenceTransformer, sut.Kind);
    }

    [Theory]
    [InlineData("config_sentence_transformers.json", "[]", "is not a JSON object")]
    [InlineData("modules.json", "{}", "is not a non-empty JSON list")]
    [InlineData("modules.json", "[]", "is not a non-empty JSON list")]
    public void SentenceTransformersFilesOfTheWrongShapeAreNamedInOneLine(string file, string content, string problem)
    {
        using var temp = new TempDirectory();
        string directory = ModelDirectoryCopy.OfMiniLm(temp);
        string path = Path.Combine(directory, file);
        File.WriteAllText(path, content);

        var error = Assert.Throws<ModelFileException>(() => ModelDirectory.Open(directory));

        Assert.Equal(path, error.FilePath);
        Assert.StartsWith(problem, error.Problem, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void MissingDirectoryIsNamed()
    {
        using var temp = new TempDirectory();
        string missing = temp.Combine("no-such-model");

        var error = Assert.Throws<ModelFileException>(() => ModelDirectory.Open(missing));

        Assert.Equal(missing, error.FilePath);
    }

    [Fact]
    public void MissingConfigIsNamed()
    {
        using var temp = new TempDirectory();

        var error = Assert.Throws<ModelFileException>(() => ModelDirectory.Open(temp.Path));

        Assert.Equal(temp.Combine("config.json"), error.FilePath);
        Assert.Contains("not found", error.Problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"model_type\": ", "not valid JSON")]
    [InlineData("{\"hidden_size\": 4}", "model_type")]
    [InlineData("{\"model_type\": \"llama\"}", "\"llama\" is not supported")]
    public void BrokenConfigIsNamed(string config, string expectedProblem)
    {
        using var temp = new TempDirectory();
        string path = temp.Write("config.json", config);

        var error = Assert.Throws<ModelFileException>(() => ModelDirectory.Open(temp.Path));

        Assert.Equal(path, error.FilePath);
        Assert.Contains(expectedProblem, error.Problem, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void MissingGraphIsNamed()
    {
        using var temp = new TempDirectory();
        string directory = ModelDirectoryCopy.OfMiniLm(temp);
        File.Delete(Path.Combine(directory, "onnx", "model.onnx"));

        var error = Assert.Throws<ModelFileException>(() => ModelDirectory.Open(directory));

        Assert.Equal(Path.Combine(directory, "onnx", "model.onnx"), error.FilePath);
    }

    [Fact]
    public void APoolingModeThisLibraryDoesNotKnowIsNamed()
    {
        using var temp = new TempDirectory();
        string directory = ModelDirectoryCopy.OfMiniLm(temp);
        string pooling = Path.Combine(directory, "1_Pooling", "config.json");
        File.WriteAllText(pooling, """{"embedding_dimension": 384, "pooling_mode": "median"}""");

        var error = Assert.Throws<ModelFileException>(() => ModelDirectory.Open(directory));

        Assert.Equal(pooling, error.FilePath);
        Assert.Contains("\"median\"", error.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void CorruptGraphIsNamed()
    {
        using var temp = new TempDirectory();
        string directory = ModelDirectoryCopy.OfMiniLm(temp);
        string graph = Path.Combine(directory, "onnx", "model.onnx");
        File.Delete(graph);
        File.WriteAllBytes(graph, [.. Enumerable.Range(0, 4096).Select(i => (byte)(i * 31))]);

        var error = Assert.Throws<ModelFileException>(() => OnnxEmbeddingGenerator.Create(directory));

        Assert.Equal(graph, error.FilePath);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void GraphWithOtherInputsIsRefusedNamingWhatWasExpected()
    {
        using var temp = new TempDirectory();
        string directory = ModelDirectoryCopy.OfMiniLm(temp);
        string graph = Path.Combine(directory, "onnx", "model.onnx");
        File.Delete(graph);
        var other = new OnnxGraph("not_an_encoder");
        other.Output(other.Op("Identity", [other.Input("pixels", OnnxDataType.Float, "n", 4)]), "out", OnnxDataType.Float, "n", 4);
        other.Save(graph, cancellationToken: TestContext.Current.CancellationToken);

        var error = Assert.Throws<ModelFileException>(() => OnnxEmbeddingGenerator.Create(directory));

        Assert.Equal(graph, error.FilePath);
        Assert.Contains("expected input_ids", error.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void GraphWithoutLastHiddenStateIsRefused()
    {
        using var temp = new TempDirectory();
        string directory = ModelDirectoryCopy.OfMiniLm(temp);
        string graph = Path.Combine(directory, "onnx", "model.onnx");
        File.Delete(graph);
        var other = new OnnxGraph("no_states");
        string ids = other.Input("input_ids", OnnxDataType.Int64, "b", "s");
        other.Input("attention_mask", OnnxDataType.Int64, "b", "s");
        other.Output(other.Op("Identity", [ids]), "logits", OnnxDataType.Int64, "b", "s");
        other.Save(graph, cancellationToken: TestContext.Current.CancellationToken);

        var error = Assert.Throws<ModelFileException>(() => OnnxEmbeddingGenerator.Create(directory));

        Assert.Contains("expected last_hidden_state", error.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void CudaOnAMachineWithoutItSaysSo()
    {
        // The CPU package carries no CUDA provider, so asking for CUDA must fail with a clear line, not a crash.
        var options = new OnnxEmbeddingGeneratorOptions { Session = new OnnxSessionOptions { Device = ExecutionDevice.Cuda } };

        var error = Assert.Throws<ExecutionProviderUnavailableException>(() => OnnxEmbeddingGenerator.Create(TestAssets.MiniLmDirectory, options));

        Assert.Contains("CUDA", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }
}
