using Microsoft.Extensions.AI;
using Microsoft.ML.Tokenizers;
using System.Numerics.Tensors;
using T5Gemma2.Rag.Encoder.Embeddings;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Embeddings;

/// <summary>The generator on the real all-MiniLM-L6-v2 against its published values.</summary>
public sealed class MiniLmKnownGoodTests(SharedMiniLm shared)
{
    private readonly OnnxEmbeddingGenerator _sut = shared.Generator;

    [Fact]
    public void TokenIdsEqualBertBaseUncased()
    {
        // bert-base-uncased WordPiece, as published: [CLS] a man is eating food . [SEP]
        var tokenizer = (Tokenizer)this._sut.GetService(typeof(Tokenizer))!;

        Assert.Equal([101, 1037, 2158, 2003, 5983, 2833, 1012, 102], ((BertTokenizer)tokenizer).EncodeToIds("A man is eating food."));
    }

    [Fact]
    public void AccentsAreStrippedAndCjkCharactersSplitAsBertBaseUncasedDoes()
    {
        // tokenizer_config.json: do_lower_case true, strip_accents null (so stripped), tokenize_chinese_chars true.
        // Expected ids are the line numbers of the pieces in the model's own vocab.txt.
        string[] vocabulary = File.ReadAllLines(Path.Combine(TestAssets.MiniLmDirectory, "vocab.txt"));
        int Id(string piece) => Array.IndexOf(vocabulary, piece) is int i and >= 0 ? i : Array.IndexOf(vocabulary, "[UNK]");
        var tokenizer = (BertTokenizer)this._sut.GetService(typeof(Tokenizer))!;

        var ids = tokenizer.EncodeToIds("Café NAÏVE 東京", addSpecialTokens: true, considerPreTokenization: true, considerNormalization: true);

        Assert.Equal([Id("[CLS]"), Id("cafe"), Id("naive"), Id("東"), Id("京"), Id("[SEP]")], ids);
        Assert.DoesNotContain(Id("[UNK]"), ids);
    }

    [Fact]
    public async Task MeanPoolingWithL2GivesThePublishedCosine()
    {
        var embeddings = await this._sut.GenerateAsync(["A man is eating food.", "A man is eating a piece of bread."], cancellationToken: TestContext.Current.CancellationToken);

        float cosine = TensorPrimitives.CosineSimilarity(embeddings[0].Vector.Span, embeddings[1].Vector.Span);

        Assert.Equal(0.7553, cosine, 0.001);
        Assert.Equal(1.0, TensorPrimitives.Norm(embeddings[0].Vector.Span), 1e-5);
    }

    [Fact]
    public void MetadataDescribesTheModel()
    {
        var metadata = (EmbeddingGeneratorMetadata)this._sut.GetService(typeof(EmbeddingGeneratorMetadata))!;

        Assert.Equal("onnxruntime", metadata.ProviderName);
        Assert.Equal(384, metadata.DefaultModelDimensions);
        Assert.Equal("sentence-transformers/all-MiniLM-L6-v2", metadata.DefaultModelId);
        Assert.Equal(256, this._sut.Model.MaxLength);
        Assert.Same(this._sut, this._sut.GetService(typeof(IEmbeddingGenerator<string, Embedding<float>>)));
        Assert.Null(this._sut.GetService(typeof(EmbeddingGeneratorMetadata), serviceKey: "other"));
    }
}
