using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using Microsoft.ML.OnnxRuntime;
using T5Gemma2.Rag.Encoder;
using T5Gemma2.Rag.Encoder.Checkpoints;
using T5Gemma2.Rag.Encoder.Embeddings;
using T5Gemma2.Rag.Encoder.Generation;
using T5Gemma2.Rag.Encoder.Models;
using T5Gemma2.Rag.Encoder.Onnx;
using T5Gemma2.Rag.Encoder.Tokenization;
using T5Gemma2.Rag.Tests.Cli;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Embeddings;

/// <summary>
/// The embedding generator over sentence-transformers layouts, against the modules computed here in double precision
/// from the encoder's own states (run in this test): every pooling mode, prompts left out of pooling, Dense modules
/// with each activation and a bias, Normalize, Matryoshka cuts, prompts chosen as sentence-transformers chooses them,
/// and EmbeddingGemma's trailing &lt;eos&gt;.
/// </summary>
public sealed class SentenceTransformerModulesTests(SharedTinySentenceTransformers layouts) : IDisposable
{
    private const int Hidden = 16;
    private const int BeginningOfSentence = 2, EndOfSentence = 1;
    private readonly TempDirectory _temp = new();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public void Dispose() => this._temp.Dispose();

    [Fact]
    public async Task EmbeddingGemmaIsMeanPoolingThenBothDenseModulesThenNormalize()
    {
        string model = layouts.EmbeddingGemma.OutputDirectory;
        using var generator = OnnxEmbeddingGenerator.Create(model);
        const string Text = "The quick brown fox";

        var vector = (await generator.GenerateAsync([Text], cancellationToken: Token))[0].Vector.ToArray();

        // The passage prompt is "title: none | text: ", tokenized with the text; <bos> first and <eos> last.
        int[] ids = Ids(generator, "title: none | text: " + Text);
        Assert.Equal(BeginningOfSentence, ids[0]);
        Assert.Equal(EndOfSentence, ids[^1]);
        var states = States(model, ids);
        var expected = Normalize(Dense(model, "3_Dense", Dense(model, "2_Dense", Mean(states, 0))));
        Assert.Equal(Hidden, vector.Length);
        AssertClose(expected, vector, 1e-5);
    }

    [Theory]
    [InlineData("cls", true)]
    [InlineData("max", true)]
    [InlineData("mean", false)]
    [InlineData("mean_sqrt_len_tokens", true)]
    [InlineData("weightedmean", false)]
    [InlineData("lasttoken", true)]
    [InlineData("cls,mean", false)]
    public async Task EachPoolingModeAndTheirConcatenationMatchSentenceTransformersFormulas(string modes, bool includePrompt)
    {
        // The Dense modules are dropped so that the pooled vector (then Normalize) is what comes out.
        string model = this.CopyOfEmbeddingGemma(withoutDense: true);
        string[] names = modes.Split(',');
        Write(Path.Combine(model, "1_Pooling", "config.json"), new JsonObject
        {
            ["embedding_dimension"] = Hidden,
            ["pooling_mode"] = names.Length == 1 ? names[0] : new JsonArray([.. names.Select(n => (JsonNode)n)]),
            ["include_prompt"] = includePrompt,
        });
        using var generator = OnnxEmbeddingGenerator.Create(model);
        const string Text = "pooling over the states";

        var query = (await generator.GenerateAsync([Text], new EmbeddingGenerationOptions().WithInputKind(EmbeddingInputKind.Query), Token))[0].Vector.ToArray();

        const string Prompt = "task: search result | query: ";
        var states = States(model, Ids(generator, Prompt + Text));
        // sentence-transformers' prompt length: the prompt tokenized alone, less its trailing special token.
        int skipped = includePrompt ? 0 : Ids(generator, Prompt).Length - 1;
        var expected = Normalize([.. names.SelectMany(name => Pool(name, states, skipped))]);
        Assert.Equal(names.Length * Hidden, generator.Dimensions);
        AssertClose(expected, query, 1e-5);
    }

    [Theory]
    [InlineData("torch.nn.modules.linear.Identity")]
    [InlineData("torch.nn.modules.activation.Tanh")]
    [InlineData("torch.nn.modules.activation.ReLU")]
    [InlineData("torch.nn.modules.activation.Sigmoid")]
    [InlineData("torch.nn.modules.activation.GELU")]
    [InlineData(null)]
    public async Task ADenseModuleWithABiasAppliesItsActivation(string? activation)
    {
        string model = this.CopyOfEmbeddingGemma(withoutDense: true);
        // One Dense 16 → 5 with a bias, before Normalize; an absent activation is sentence-transformers' Tanh.
        var modules = JsonNode.Parse(File.ReadAllText(Path.Combine(model, "modules.json")))!.AsArray();
        modules.Insert(2, new JsonObject { ["idx"] = 2, ["name"] = "2", ["path"] = "2_Dense", ["type"] = "sentence_transformers.models.Dense" });
        Write(Path.Combine(model, "modules.json"), modules);
        var config = new JsonObject { ["in_features"] = Hidden, ["out_features"] = 5, ["bias"] = true };
        if (activation is not null)
        {
            config["activation_function"] = activation;
        }

        Directory.CreateDirectory(Path.Combine(model, "2_Dense"));
        Write(Path.Combine(model, "2_Dense", "config.json"), config);
        var random = new Random(9);
        float[] weight = [.. Enumerable.Range(0, 5 * Hidden).Select(_ => (float)(random.NextDouble() * 2 - 1))];
        float[] bias = [.. Enumerable.Range(0, 5).Select(_ => (float)(random.NextDouble() - 0.5))];
        SafeTensorsWriter.Write(Path.Combine(model, "2_Dense", "model.safetensors"), [("linear.weight", [5, Hidden], () => weight), ("linear.bias", [5], () => bias)], "F32");
        using var generator = OnnxEmbeddingGenerator.Create(model);

        var vector = (await generator.GenerateAsync(["dense modules"], cancellationToken: Token))[0].Vector.ToArray();

        var pooled = Mean(States(model, Ids(generator, "title: none | text: dense modules")), 0);
        var linear = Enumerable.Range(0, 5).Select(o => Enumerable.Range(0, Hidden).Sum(i => (double)weight[o * Hidden + i] * pooled[i]) + bias[o]);
        Func<double, double> function = activation switch
        {
            "torch.nn.modules.linear.Identity" => x => x,
            "torch.nn.modules.activation.ReLU" => x => Math.Max(0, x),
            "torch.nn.modules.activation.Sigmoid" => x => 1 / (1 + Math.Exp(-x)),
            "torch.nn.modules.activation.GELU" => x => 0.5 * x * (1 + ErfSeries(x / Math.Sqrt(2))),
            _ => Math.Tanh,
        };
        Assert.Equal(5, generator.Dimensions);
        AssertClose(Normalize([.. linear.Select(function)]), vector, 1e-5);
    }

    [Fact]
    public async Task PromptsAreChosenAsSentenceTransformersEncodeQueryAndEncodeDocumentChooseThem()
    {
        string model = layouts.EmbeddingGemma.OutputDirectory;
        using var generator = OnnxEmbeddingGenerator.Create(model);
        var asQuery = await generator.GenerateAsync(["what is a fox"], new EmbeddingGenerationOptions().WithInputKind(EmbeddingInputKind.Query), Token);
        var named = await generator.GenerateAsync(["what is a fox"], new EmbeddingGenerationOptions().WithPromptName("Retrieval-query"), Token);
        var document = await generator.GenerateAsync(["what is a fox"], new EmbeddingGenerationOptions().WithPromptName("Retrieval-document"), Token);
        var passage = await generator.GenerateAsync(["what is a fox"], cancellationToken: Token);

        Assert.Equal(asQuery[0].Vector.ToArray(), named[0].Vector.ToArray());
        Assert.Equal(document[0].Vector.ToArray(), passage[0].Vector.ToArray());
        Assert.NotEqual(asQuery[0].Vector.ToArray(), passage[0].Vector.ToArray());

        // Without "query" and "document": the passage takes "passage" before "corpus", the query the default prompt.
        string other = this.CopyOfEmbeddingGemma(withoutDense: false);
        Write(Path.Combine(other, "config_sentence_transformers.json"), new JsonObject
        {
            ["prompts"] = new JsonObject { ["corpus"] = "corpus: ", ["passage"] = "passage: ", ["plain"] = "plain: " },
            ["default_prompt_name"] = "plain",
        });
        var directory = ModelDirectory.Open(other);
        Assert.Equal("passage: ", directory.PassagePrefix);
        Assert.Equal("plain: ", directory.QueryPrefix);
    }

    [Fact]
    public async Task AnUnknownPromptNameIsOneLineListingTheModelsPrompts()
    {
        using var generator = OnnxEmbeddingGenerator.Create(layouts.EmbeddingGemma.OutputDirectory);

        var error = await Assert.ThrowsAsync<ModelFileException>(() => generator.GenerateAsync(["x"], new EmbeddingGenerationOptions().WithPromptName("Retrieval-passage"), Token));

        Assert.EndsWith("config_sentence_transformers.json", error.FilePath, StringComparison.Ordinal);
        Assert.Contains("has no prompt 'Retrieval-passage'; expected one of [", error.Problem, StringComparison.Ordinal);
        Assert.Contains("Retrieval-document", error.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MatryoshkaCutsKeepTheLeadingComponentsRenormalisedAndRefuseUnlistedLengths()
    {
        string model = this.CopyOfEmbeddingGemma(withoutDense: false);
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(model, "t5rag.json")))!.AsObject();
        manifest["matryoshka_dimensions"] = new JsonArray(16, 8, 4);
        Write(Path.Combine(model, "t5rag.json"), manifest);
        using var generator = OnnxEmbeddingGenerator.Create(model);

        var full = (await generator.GenerateAsync(["matryoshka"], cancellationToken: Token))[0].Vector.ToArray();
        var cut = (await generator.GenerateAsync(["matryoshka"], new EmbeddingGenerationOptions { Dimensions = 8 }, Token))[0].Vector.ToArray();

        AssertClose(Normalize([.. full.Take(8).Select(v => (double)v)]), cut, 1e-6);
        var refused = await Assert.ThrowsAsync<EmbeddingDimensionsException>(() => generator.GenerateAsync(["x"], new EmbeddingGenerationOptions { Dimensions = 6 }, Token));
        Assert.Contains("expected one of its Matryoshka dimensions 16, 8, 4", refused.Message, StringComparison.Ordinal);
        Assert.Equal(FailureKind.ModelMismatch, refused.Kind);
        await Assert.ThrowsAsync<EmbeddingDimensionsException>(() => generator.GenerateAsync(["x"], new EmbeddingGenerationOptions { Dimensions = 17 }, Token));
    }

    [Fact]
    public async Task ABatchOfTextsOfDifferentLengthsGoesThroughTheDenseModulesTogether()
    {
        // One call, one padded batch: the Dense modules run as one product over its rows, each row its own text's vector.
        string model = layouts.EmbeddingGemma.OutputDirectory;
        using var generator = OnnxEmbeddingGenerator.Create(model);
        string[] texts = ["a", "a somewhat longer passage of text", "a passage of middling length"];

        var result = await generator.GenerateAsync(texts, cancellationToken: Token);

        for (int i = 0; i < texts.Length; i++)
        {
            var states = States(model, Ids(generator, "title: none | text: " + texts[i]));
            AssertClose(Normalize(Dense(model, "3_Dense", Dense(model, "2_Dense", Mean(states, 0)))), result[i].Vector.ToArray(), 1e-5);
        }

        // Where the time went, for bench encoder: both measured, the modules' beside the run's.
        Assert.True((double)result.AdditionalProperties![OnnxEmbeddingGenerator.EncoderMillisecondsKey]! > 0);
        Assert.True((double)result.AdditionalProperties[OnnxEmbeddingGenerator.ModulesMillisecondsKey]! > 0);
    }

    [Fact]
    public async Task AMatryoshkaCutIsRenormalisedEvenWithoutANormalizeModule()
    {
        // t5rag.json turns Normalize off: the full vectors keep their length, a cut is still made unit length
        // (sentence-transformers' encode(truncate_dim=8, normalize_embeddings=True)).
        string model = this.CopyOfEmbeddingGemma(withoutDense: false);
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(model, "t5rag.json")))!.AsObject();
        manifest["normalize"] = false;
        manifest["matryoshka_dimensions"] = new JsonArray(16, 8);
        Write(Path.Combine(model, "t5rag.json"), manifest);
        using var generator = OnnxEmbeddingGenerator.Create(model);

        var full = (await generator.GenerateAsync(["unnormalised"], cancellationToken: Token))[0].Vector.ToArray();
        var cut = (await generator.GenerateAsync(["unnormalised"], new EmbeddingGenerationOptions { Dimensions = 8 }, Token))[0].Vector.ToArray();

        var expected = Dense(model, "3_Dense", Dense(model, "2_Dense", Mean(States(model, Ids(generator, "title: none | text: unnormalised")), 0)));
        AssertClose(expected, full, 1e-5);
        AssertClose(Normalize([.. expected.Take(8)]), cut, 1e-5);
    }

    [Fact]
    public async Task AT5Gemma2EncoderMakesFewerDimensionsThanItsHiddenSize()
    {
        // The graph's image_features input is [images, hidden]: a cut below the hidden size must not change it.
        string model = layouts.StandaloneEncoder.OutputDirectory;
        using var full = OnnxEmbeddingGenerator.Create(model);
        using var cut = OnnxEmbeddingGenerator.Create(model, new OnnxEmbeddingGeneratorOptions { Dimensions = 8 });

        var vector = (await full.GenerateAsync(["fewer dimensions"], cancellationToken: Token))[0].Vector.ToArray();
        var shorter = (await cut.GenerateAsync(["fewer dimensions"], cancellationToken: Token))[0].Vector.ToArray();

        Assert.Equal(8, cut.Dimensions);
        AssertClose(Normalize([.. vector.Take(8).Select(v => (double)v)]), shorter, 1e-6);
    }

    [Theory]
    [InlineData("pickle", "pytorch_model.bin", "holds the Dense weights as a pickle, which is not read; expected model.safetensors")]
    [InlineData("neither", "2_Dense", "has neither model.safetensors nor pytorch_model.bin; expected the Dense module's weights")]
    [InlineData("shape", "model.safetensors", "tensor 'linear.weight' has shape [16, 64]; config.json's in_features and out_features imply [64, 16]")]
    [InlineData("chain", "config.json", "field 'in_features' is 63; expected 64, the width of the vector before this module")]
    public void BadDenseWeightsAreOneLineNamingTheFile(string problem, string named, string expected)
    {
        string model = this.CopyOfEmbeddingGemma(withoutDense: false);
        string dense = Path.Combine(model, "2_Dense");
        switch (problem)
        {
            case "pickle":
                File.Move(Path.Combine(dense, "model.safetensors"), Path.Combine(dense, "pytorch_model.bin"));
                break;
            case "neither":
                File.Delete(Path.Combine(dense, "model.safetensors"));
                break;
            case "shape":
                float[] transposed = new float[64 * Hidden];
                SafeTensorsWriter.Write(Path.Combine(dense, "model.safetensors"), [("linear.weight", [Hidden, 64], () => transposed)], "F32");
                break;
            case "chain":
                // The second Dense takes 63 where the first makes 64.
                dense = Path.Combine(model, "3_Dense");
                Write(Path.Combine(dense, "config.json"), new JsonObject { ["in_features"] = 63, ["out_features"] = Hidden, ["bias"] = false, ["activation_function"] = "torch.nn.modules.linear.Identity" });
                break;
        }

        var error = Record.Exception(() =>
        {
            using var generator = OnnxEmbeddingGenerator.Create(model);
        });

        var failure = Assert.IsType<ModelFileException>(error);
        Assert.Equal(FailureKind.InputFile, failure.Kind);
        Assert.Equal(named == "2_Dense" ? dense : Path.Combine(dense, named), failure.FilePath);
        Assert.Contains(expected, failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', failure.Message);
    }

    [Fact]
    public async Task ALengthPastTheModelsPositionsIsCappedThereWithAWarning()
    {
        string model = this.CopyOfEmbeddingGemma(withoutDense: false);
        Write(Path.Combine(model, "sentence_bert_config.json"), new JsonObject { ["max_seq_length"] = 4096, ["do_lower_case"] = false });

        var directory = ModelDirectory.Open(model);
        var (code, output, error) = await CliRunner.RunAsync("embed", "--model", model, "capped");

        // config.json's max_position_embeddings is 512.
        Assert.Equal(512, directory.MaxLength);
        Assert.Equal(4096, directory.ConfiguredMaxLength);
        Assert.True(code == 0, error);
        Assert.StartsWith("dimensions: 16", output, StringComparison.Ordinal);
        Assert.Contains("asks for up to 4096 tokens per input, past its 512 positions (config.json max_position_embeddings); inputs are cut at 512", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TruncationKeepsEmbeddingGemmasEndTokenLast()
    {
        string model = layouts.EmbeddingGemma.OutputDirectory;
        using var generator = OnnxEmbeddingGenerator.Create(model, new OnnxEmbeddingGeneratorOptions { MaxLength = 6 });
        var tokenizer = (GemmaTokenizer)generator.Tokenizer;
        Assert.Equal(EndOfSentence, tokenizer.AppendedEndId);

        var result = await generator.GenerateAsync(["a long passage that the model must cut short"], cancellationToken: Token);

        Assert.Equal(1, result.AdditionalProperties![OnnxEmbeddingGenerator.TruncatedInputsKey]);
        int[] full = Ids(generator, "title: none | text: a long passage that the model must cut short");
        int[] kept = [.. full.Take(5), EndOfSentence];
        var expected = Normalize(Dense(model, "3_Dense", Dense(model, "2_Dense", Mean(States(model, kept), 0))));
        AssertClose(expected, result[0].Vector.ToArray(), 1e-5);
    }

    [Fact]
    public void TheT5Gemma2TokenizerStillAppendsNothing()
    {
        var tokenizer = GemmaTokenizer.Create(TestAssets.GemmaTokenizerJson);

        Assert.Null(tokenizer.AppendedEndId);
        Assert.True(tokenizer.AddBeginningOfSentence);
    }

    [Theory]
    [InlineData("modules.json", """[{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},{"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.WeightedLayerPooling"}]""", "entry 1 (type \"sentence_transformers.models.WeightedLayerPooling\") is a module this library does not run")]
    [InlineData("modules.json", """[{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},{"idx":1,"name":"1","path":"1_Pooling","type":"my_package.CustomPooling"}]""", "is not a sentence-transformers module")]
    [InlineData("modules.json", """[{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},{"idx":1,"name":"1","path":"9_Pooling","type":"sentence_transformers.models.Pooling"}]""", "not found; expected the folder of modules.json's entry 1")]
    [InlineData("modules.json", """[{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},{"idx":1,"name":"1","path":"../outside","type":"sentence_transformers.models.Pooling"}]""", "outside the repository")]
    [InlineData("modules.json", """[{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},{"idx":1,"name":"1","path":"2_Dense","type":"sentence_transformers.models.Dense"}]""", "comes before the Pooling module")]
    [InlineData("1_Pooling/config.json", """{"word_embedding_dimension": 32, "pooling_mode_mean_tokens": true}""", "field 'word_embedding_dimension' is 32; expected the encoder's hidden_size 16")]
    [InlineData("2_Dense/config.json", """{"in_features": 15, "out_features": 64, "bias": false, "activation_function": "torch.nn.modules.linear.Identity"}""", "field 'in_features' is 15; expected 16")]
    [InlineData("2_Dense/config.json", """{"in_features": 16, "out_features": 64, "bias": false, "activation_function": "torch.nn.modules.activation.SiLU"}""", "field 'activation_function' is \"torch.nn.modules.activation.SiLU\"")]
    [InlineData("2_Dense/config.json", """{"in_features": 16, "out_features": 64, "bias": true, "activation_function": "torch.nn.modules.linear.Identity"}""", "has no tensor 'linear.bias'")]
    [InlineData("config_sentence_transformers.json", """{"prompts": {"query": "q: "}, "default_prompt_name": "document"}""", "field 'default_prompt_name' is \"document\"; expected one of the prompts [query]")]
    [InlineData("config_sentence_transformers.json", """{"similarity_fn_name": "euclidean"}""", "field 'similarity_fn_name' is \"euclidean\"")]
    [InlineData("config_sentence_transformers.json", """{"model_type": "SparseEncoder"}""", "field 'model_type' is \"SparseEncoder\"")]
    [InlineData("sentence_bert_config.json", """{"modality_config": {"message": {"method": "forward"}}}""", "field 'modality_config' has \"message\"")]
    [InlineData("modules.json", """[{"idx":0,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"},{"idx":1,"name":"0","path":"","type":"sentence_transformers.models.Transformer"}]""", "entry 0 (type \"sentence_transformers.models.Pooling\") is out of place; expected exactly one Transformer, first")]
    [InlineData("modules.json", """[{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},{"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"},{"idx":2,"name":"2","path":"1_Pooling","type":"sentence_transformers.models.Pooling"}]""", "entry 2 (type \"sentence_transformers.models.Pooling\") is a second Pooling module")]
    [InlineData("modules.json", """[{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"}]""", "lists no Pooling module")]
    [InlineData("1_Pooling/config.json", """{"embedding_dimension": 16, "pooling_mode": ["mean", "attention"]}""", "field 'pooling_mode' has \"attention\"")]
    [InlineData("config_sentence_transformers.json", """{"similarity_fn_name": "manhattan"}""", "field 'similarity_fn_name' is \"manhattan\"; expected \"cosine\" or \"dot\"")]
    [InlineData("config_sentence_transformers.json", """{"model_type": "CrossEncoder"}""", "field 'model_type' is \"CrossEncoder\"; expected \"SentenceTransformer\"")]
    [InlineData("sentence_bert_config.json", """{"transformer_task": "text-generation"}""", "field 'transformer_task' is \"text-generation\"; expected \"feature-extraction\"")]
    [InlineData("sentence_bert_config.json", """{"do_lower_case": true}""", "field 'do_lower_case' is true; expected false for a Gemma tokenizer")]
    public void BadModuleFilesAreOneLineNamingTheFileAndField(string file, string content, string problem)
    {
        string model = this.CopyOfEmbeddingGemma(withoutDense: false);
        File.WriteAllText(Path.Combine(model, file), content);

        var error = Record.Exception(() =>
        {
            using var generator = OnnxEmbeddingGenerator.Create(model);
        });

        var failure = Assert.IsType<ModelFileException>(error);
        Assert.Contains(problem, failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', failure.Message);
        Assert.StartsWith(model, failure.FilePath, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheNewerModuleNamesDropoutAFallbackConfigNameDotSimilarityAndTruncateDimAreAccepted()
    {
        // sentence-transformers 5.4+'s module paths, a Dropout (identity at inference), the Transformer config under a
        // fallback name, dot similarity, and truncate_dim as the default length.
        string model = this.CopyOfEmbeddingGemma(withoutDense: false);
        Write(Path.Combine(model, "modules.json"), JsonNode.Parse("""
            [{"idx":0,"name":"0","path":"","type":"sentence_transformers.base.modules.transformer.Transformer"},
             {"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.sentence_transformer.modules.pooling.Pooling"},
             {"idx":2,"name":"2","path":"2_Dropout","type":"sentence_transformers.models.Dropout"},
             {"idx":3,"name":"3","path":"2_Dense","type":"sentence_transformers.base.modules.dense.Dense"},
             {"idx":4,"name":"4","path":"3_Dense","type":"sentence_transformers.base.modules.dense.Dense"},
             {"idx":5,"name":"5","path":"4_Normalize","type":"sentence_transformers.base.modules.normalize.Normalize"}]
            """)!);
        File.Move(Path.Combine(model, "sentence_bert_config.json"), Path.Combine(model, "sentence_roberta_config.json"));
        Write(Path.Combine(model, "sentence_roberta_config.json"), new JsonObject { ["max_seq_length"] = 100, ["do_lower_case"] = false });
        var settings = JsonNode.Parse(File.ReadAllText(Path.Combine(model, "config_sentence_transformers.json")))!.AsObject();
        settings["similarity_fn_name"] = "dot";
        settings["truncate_dim"] = 8;
        Write(Path.Combine(model, "config_sentence_transformers.json"), settings);

        var directory = ModelDirectory.Open(model);
        using var generator = OnnxEmbeddingGenerator.Create(model);
        var vector = (await generator.GenerateAsync(["accepted"], cancellationToken: Token))[0].Vector.ToArray();

        Assert.Equal(100, directory.MaxLength);
        Assert.Equal("dot", directory.Prompts.Similarity);
        Assert.Equal(16, generator.FullDimensions);
        Assert.Equal(8, generator.Dimensions);
        var full = Normalize(Dense(model, "3_Dense", Dense(model, "2_Dense", Mean(States(model, Ids(generator, "title: none | text: accepted")), 0))));
        AssertClose(Normalize([.. full.Take(8)]), vector, 1e-5);
    }

    [Theory]
    [InlineData("t5gemma2_text")]
    [InlineData("t5gemma2_encoder")]
    public void AT5Gemma2TextConfigWithItsFieldsAtTheRootReadsAsT5Gemma2(string modelType)
    {
        // A standalone encoder's or text model's config may keep hidden_size and max_position_embeddings at its root.
        string model = this.CopyOfEmbeddingGemma(withoutDense: false);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(model, "config.json")))!.AsObject();
        config["model_type"] = modelType;
        config["max_position_embeddings"] = 64;
        Write(Path.Combine(model, "config.json"), config);

        var directory = ModelDirectory.Open(model);

        Assert.Equal(ModelKind.T5Gemma2, directory.Kind);
        Assert.Equal(Hidden, directory.HiddenSize);
        Assert.Equal(64, directory.MaxLength); // sentence_bert_config.json's 512, capped at the positions
        Assert.Equal(Path.Combine(model, "onnx", "encoder_model.onnx"), directory.EncoderGraphPath);
    }

    [Fact]
    public void EmbeddingGemmaIsRefusedForGenerationInOneLine()
    {
        var error = Assert.Throws<ModelFileException>(() => Seq2SeqModel.Open(layouts.EmbeddingGemma.OutputDirectory, new OnnxSessionOptions()));

        Assert.Equal(FailureKind.InputFile, error.Kind);
        Assert.Contains("expected a T5Gemma 2 conversion (t5rag model convert) to generate text", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void ARepositoryWithoutNormalizeFolderStillNormalizes()
    {
        // EmbeddingGemma's Hub repository has no 4_Normalize folder (nothing to save in it).
        Assert.False(Directory.Exists(Path.Combine(layouts.EmbeddingGemma.OutputDirectory, "4_Normalize")));

        var directory = ModelDirectory.Open(layouts.EmbeddingGemma.OutputDirectory);

        Assert.True(directory.Normalize);
        Assert.Equal([PoolingMode.Mean], directory.PoolingModule.Modes);
        Assert.Equal([64, 16], directory.Dense.Select(d => d.OutFeatures));
        Assert.Equal(512, directory.MaxLength); // sentence_bert_config.json's max_seq_length
        Assert.Equal(ModelKind.Gemma3Encoder, directory.Kind);
    }

    private string CopyOfEmbeddingGemma(bool withoutDense)
    {
        string target = ModelDirectoryCopy.AllFiles(layouts.EmbeddingGemma.OutputDirectory, this._temp.Combine($"model-{Guid.NewGuid():N}"));

        if (withoutDense)
        {
            var modules = JsonNode.Parse(File.ReadAllText(Path.Combine(target, "modules.json")))!.AsArray();
            foreach (var dense in modules.Where(m => ((string)m!["type"]!).EndsWith(".Dense", StringComparison.Ordinal)).ToList())
            {
                modules.Remove(dense);
            }

            Write(Path.Combine(target, "modules.json"), modules);
            Directory.Delete(Path.Combine(target, "2_Dense"), recursive: true);
            Directory.Delete(Path.Combine(target, "3_Dense"), recursive: true);
        }

        return target;
    }

    private static void Write(string path, JsonNode content) => File.WriteAllText(path, content.ToJsonString());

    /// <summary>&lt;bos&gt;, the text as plain text, &lt;eos&gt;: EmbeddingGemma's template, spelled out here.</summary>
    private static int[] Ids(OnnxEmbeddingGenerator generator, string text) =>
        [BeginningOfSentence, .. ((GemmaTokenizer)generator.Tokenizer).EncodeToIdsAsPlainText(text), EndOfSentence];

    /// <summary>The encoder's last_hidden_state for one input, from a session of this test's own.</summary>
    private static double[][] States(string model, int[] ids)
    {
        using var session = new InferenceSession(Path.Combine(model, "onnx", "encoder_model.onnx"));
        using var idsValue = OrtValue.CreateTensorValueFromMemory(ids.Select(i => (long)i).ToArray(), [1, ids.Length]);
        using var maskValue = OrtValue.CreateTensorValueFromMemory(ids.Select(_ => 1L).ToArray(), [1, ids.Length]);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, ["input_ids", "attention_mask"], [idsValue, maskValue], ["last_hidden_state"]);
        var flat = outputs[0].GetTensorDataAsSpan<float>().ToArray();
        return [.. Enumerable.Range(0, ids.Length).Select(t => flat.Skip(t * Hidden).Take(Hidden).Select(v => (double)v).ToArray())];
    }

    private static double[] Pool(string mode, double[][] states, int skipped)
    {
        var kept = states.Select((row, t) => (Row: row, Position: t)).Skip(skipped).ToList();
        return mode switch
        {
            "cls" => kept[0].Row,
            "lasttoken" => kept[^1].Row,
            "max" => [.. Enumerable.Range(0, Hidden).Select(h => kept.Max(k => k.Row[h]))],
            "mean" => Mean(states, skipped),
            "mean_sqrt_len_tokens" => [.. Enumerable.Range(0, Hidden).Select(h => kept.Sum(k => k.Row[h]) / Math.Sqrt(kept.Count))],
            "weightedmean" => [.. Enumerable.Range(0, Hidden).Select(h => kept.Sum(k => k.Row[h] * (k.Position + 1)) / kept.Sum(k => k.Position + 1.0))],
            _ => throw new ArgumentOutOfRangeException(nameof(mode)),
        };
    }

    private static double[] Mean(double[][] states, int skipped) =>
        [.. Enumerable.Range(0, Hidden).Select(h => states.Skip(skipped).Average(row => row[h]))];

    private static double[] Dense(string model, string folder, double[] input)
    {
        using var file = SafeTensorsFile.Open(Path.Combine(model, folder, "model.safetensors"));
        var info = file.Tensors["linear.weight"];
        var weight = new float[info.ElementCount];
        file.ReadFloat32(info, weight);
        int outputs = (int)info.Shape[0], inputs = (int)info.Shape[1];
        return [.. Enumerable.Range(0, outputs).Select(o => Enumerable.Range(0, inputs).Sum(i => weight[o * inputs + i] * input[i]))];
    }

    private static double[] Normalize(double[] vector)
    {
        double norm = Math.Sqrt(vector.Sum(v => v * v));
        return [.. vector.Select(v => v / norm)];
    }

    // erf by its Taylor series, exact in double for the small arguments here; independent of the library's fit.
    private static double ErfSeries(double x)
    {
        double sum = 0, term = x;
        for (int n = 0; n < 80; n++)
        {
            sum += term / (2 * n + 1);
            term *= -x * x / (n + 1);
        }

        return 2 / Math.Sqrt(Math.PI) * sum;
    }

    private static void AssertClose(double[] expected, float[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
        Assert.True(worst <= tolerance, $"max abs difference {worst:E2} > {tolerance:E0}");
    }
}
