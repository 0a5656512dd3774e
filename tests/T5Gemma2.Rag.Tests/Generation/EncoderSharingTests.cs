using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using T5Gemma2.Rag.DependencyInjection;
using T5Gemma2.Rag.Encoder;
using T5Gemma2.Rag.Encoder.Embeddings;
using T5Gemma2.Rag.Encoder.Generation;
using T5Gemma2.Rag.Encoder.Models;
using T5Gemma2.Rag.Encoder.Onnx.Graph;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Generation;

/// <summary>
/// One T5Gemma 2 model that embeds and answers holds its encoder once: the generator's own encoder session embeds
/// exactly as a standalone embedding generator does, and each lives as long as its last user.
/// </summary>
public sealed class EncoderSharingTests(SharedTinyT5Gemma2 tiny)
{
    private static readonly string[] s_texts = ["the merged attention of the decoder", "passages packed into the encoder", ""];

    [Fact]
    public async Task TheGeneratorsEncoderEmbedsAsAStandaloneEncoderDoes()
    {
        using var standalone = OnnxEmbeddingGenerator.Create(tiny.ConvertedDirectory);
        var generator = Seq2SeqGenerator.Create(tiny.ConvertedDirectory);
        using var shared = generator.CreateEmbeddingGenerator();
        var expected = await standalone.GenerateAsync(s_texts, cancellationToken: TestContext.Current.CancellationToken);

        var before = await shared.GenerateAsync(s_texts, cancellationToken: TestContext.Current.CancellationToken);
        generator.Dispose();
        var after = await shared.GenerateAsync(s_texts, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(standalone.Dimensions, shared.Dimensions);
        for (int i = 0; i < s_texts.Length; i++)
        {
            Assert.Equal(expected[i].Vector.ToArray(), before[i].Vector.ToArray());
            Assert.Equal(expected[i].Vector.ToArray(), after[i].Vector.ToArray());
        }
    }

    [Fact]
    public async Task AnEmbeddingGeneratorOutlivedByItsGeneratorStillLetsTheGeneratorAnswer()
    {
        using var generator = Seq2SeqGenerator.Create(tiny.ConvertedDirectory);
        var options = new GenerationOptions { MaxNewTokens = 8 };
        var expected = await generator.GenerateAsync("a question", options, TestContext.Current.CancellationToken);

        var shared = generator.CreateEmbeddingGenerator();
        shared.Dispose();
        var answer = await generator.GenerateAsync("a question", options, TestContext.Current.CancellationToken);

        Assert.Equal(expected.TokenIds, answer.TokenIds);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => shared.GenerateAsync(["after"], cancellationToken: TestContext.Current.CancellationToken));

        var disposed = Seq2SeqGenerator.Create(tiny.ConvertedDirectory);
        disposed.Dispose();
        Assert.Throws<ObjectDisposedException>(() => disposed.CreateEmbeddingGenerator());
    }

    [Fact]
    public void TheServiceRegistrationLoadsOneEncoderWhenTheEmbeddingModelAnswers()
    {
        using var temp = new TempDirectory();
        var services = new ServiceCollection();
        services.AddT5Gemma2Rag(o =>
        {
            o.EmbeddingModelDirectory = tiny.ConvertedDirectory;
            o.GeneratorModelDirectory = tiny.ConvertedDirectory + Path.DirectorySeparatorChar;
            o.Store = temp.Combine("store");
        });
        using var provider = services.BuildServiceProvider();

        var embedder = provider.GetRequiredService<OnnxEmbeddingGenerator>();
        var generator = provider.GetRequiredService<Seq2SeqGenerator>();

        Assert.Same(generator.EncoderSession, embedder.EncoderSession);
        Assert.Same(embedder, provider.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>());
    }

    [Fact]
    public void AConversionWithSeparateSelfAndCrossCachesIsNamedAndRefused()
    {
        using var temp = new TempDirectory();
        string copy = temp.Combine("old");
        Directory.CreateDirectory(Path.Combine(copy, "onnx"));
        ModelDirectoryCopy.TopLevelFiles(tiny.ConvertedDirectory, copy);
        foreach (string file in Directory.EnumerateFiles(Path.Combine(tiny.ConvertedDirectory, "onnx")))
        {
            File.Copy(file, Path.Combine(copy, "onnx", Path.GetFileName(file)));
        }

        // A step graph with the inputs of the layout before merged caches.
        var old = new OnnxGraph("old_step");
        string past = old.Input("past_key_values.0.decoder.key", OnnxDataType.Float, 1, 2, "past", 8);
        old.Output(old.Op("Identity", [past]), "present.0.decoder.key", OnnxDataType.Float, 1, 2, "past", 8);
        old.Save(Path.Combine(copy, DecoderGraphNames.StepFile), cancellationToken: TestContext.Current.CancellationToken);

        var error = Assert.Throws<ModelFileException>(() => Seq2SeqGenerator.Create(copy));

        Assert.Contains("decoder_model_merged.onnx", error.Message, StringComparison.Ordinal);
        Assert.Contains("convert the checkpoint again", error.Message, StringComparison.Ordinal);
    }
}
