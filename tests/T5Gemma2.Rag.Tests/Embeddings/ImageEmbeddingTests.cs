using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using T5Gemma2.Rag.Encoder;
using T5Gemma2.Rag.Encoder.Checkpoints;
using T5Gemma2.Rag.Encoder.Embeddings;
using T5Gemma2.Rag.Encoder.Images;
using T5Gemma2.Rag.Encoder.Models;
using T5Gemma2.Rag.DependencyInjection;
using T5Gemma2.Rag.Tests.Conversion;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Embeddings;

/// <summary>
/// Image embeddings of the tiny T5Gemma 2 (real ONNX Runtime sessions of its vision and encoder graphs) against an
/// independent computation: the double-precision reference tower and encoder, pooled and normalised here; and the
/// bad inputs (not an image, corrupt bytes, a text-only model).
/// </summary>
public sealed class ImageEmbeddingTests(SharedTinyT5Gemma2 tiny)
{
    private const double Tolerance = 1e-4;
    private const int Size = 28; // the tiny SigLIP's image size: the PNGs decode to these pixels without resizing

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ImageEmbeddingsMatchTheReferenceEncoderPooledInTheTest()
    {
        int[] seeds = [1, 2, 3];
        var rgb = seeds.Select(s => SeededImages.Rgb(Size, Size, s)).ToArray();
        var images = seeds.Select((s, i) => new DataContent(SeededImages.Png(Size, Size, s), "image/png") { Name = $"image{i}.png" }).ToList();
        using var generator = OnnxEmbeddingGenerator.Create(tiny.ConvertedDirectory);

        var embeddings = await generator.GenerateAsync(images, cancellationToken: Token);

        var vision = generator.Model.RequireVision();
        using var weights = SafeTensorsCheckpoint.Open(tiny.CheckpointDirectory);
        var tower = new ReferenceVision(tiny.CheckpointDirectory, weights);
        var encoder = new ReferenceEncoder(tiny.CheckpointDirectory, weights);
        // The processor's ids for one image (T5Gemma 2's tokenizer appends no eos): bos, "\n\n", boi, soft × 4, eoi, "\n\n".
        long[] ids = [2, 108, vision.BeginOfImageTokenId, .. Enumerable.Repeat((long)vision.ImageTokenId, vision.TokensPerImage), vision.EndOfImageTokenId, 108];
        Assert.Equal(ids.Length, (int)(embeddings.Usage!.InputTokenCount! / images.Count));
        double worst = 0;
        for (int k = 0; k < images.Count; k++)
        {
            float[][] features = [.. tower.Features(SeededImages.PixelValues(rgb[k], Size, Size)).Select(row => row.Select(v => (float)v).ToArray())];
            var states = encoder.Run([ids], [[.. ids.Select(_ => 1L)]], features)[0];
            double[] mean = new double[states[0].Length];
            foreach (var state in states)
            {
                for (int h = 0; h < mean.Length; h++)
                {
                    mean[h] += state[h] / states.Length;
                }
            }

            double norm = Math.Sqrt(mean.Sum(v => v * v));
            var actual = embeddings[k].Vector.Span;
            Assert.Equal(mean.Length, actual.Length);
            for (int h = 0; h < mean.Length; h++)
            {
                worst = Math.Max(worst, Math.Abs(mean[h] / norm - actual[h]));
            }
        }

        Assert.True(worst <= Tolerance, $"image embeddings: max abs difference to the reference {worst:E2} > {Tolerance:E0}");
        Assert.True(embeddings[0].Vector.Span.SequenceEqual(embeddings[1].Vector.Span) is false, "different images gave the same vector");
        TestContext.Current.TestOutputHelper?.WriteLine($"image embeddings of 3 images in one batch: max abs difference to the reference {worst:E2}");
    }

    [Fact]
    public async Task ImagesShareTheTextSpaceAndBatchesGiveTheSameVectorsAsOneImagePerRun()
    {
        var images = Enumerable.Range(10, 5).Select(s => new DataContent(SeededImages.Png(40, 30, s), "image/png")).ToList();
        using var batched = OnnxEmbeddingGenerator.Create(tiny.ConvertedDirectory);
        using var single = OnnxEmbeddingGenerator.Create(tiny.ConvertedDirectory, new OnnxEmbeddingGeneratorOptions { MaxBatchSize = 1 });

        var a = await batched.GenerateAsync(images, cancellationToken: Token);
        var b = await single.GenerateAsync(images, cancellationToken: Token);
        var text = await batched.GenerateAsync(["a photo of a diagram"], cancellationToken: Token);

        for (int i = 0; i < images.Count; i++)
        {
            double difference = a[i].Vector.Span.ToArray().Zip(b[i].Vector.Span.ToArray(), (x, y) => Math.Abs(x - y)).Max();
            Assert.True(difference < 1e-5, $"image {i}: batched and alone differ by {difference:E2}");
        }

        Assert.Equal(text[0].Vector.Length, a[0].Vector.Length);
        Assert.Same(batched, batched.GetService(typeof(IEmbeddingGenerator<DataContent, Embedding<float>>)));
        Assert.Equal(batched.Dimensions, ((EmbeddingGeneratorMetadata)batched.GetService(typeof(EmbeddingGeneratorMetadata))!).DefaultModelDimensions);
    }

    [Fact]
    public async Task ANonImageOrCorruptContentIsRefusedNamingIt()
    {
        using var generator = OnnxEmbeddingGenerator.Create(tiny.ConvertedDirectory);
        var notImage = new DataContent("hello"u8.ToArray(), "text/plain") { Name = "notes.txt" };
        var corrupt = new DataContent(SeededImages.Png(Size, Size, 4).AsSpan(0, 40).ToArray(), "image/png") { Name = "cut.png" };
        IEmbeddingGenerator<DataContent, Embedding<float>> images = generator;

        var kind = await Assert.ThrowsAsync<ImageFileException>(() => images.GenerateAsync([notImage], cancellationToken: Token));
        var broken = await Assert.ThrowsAsync<ImageFileException>(() => images.GenerateAsync([new DataContent(SeededImages.Png(Size, Size, 5), "image/png"), corrupt], cancellationToken: Token));

        Assert.StartsWith("notes.txt: ", kind.Message, StringComparison.Ordinal);
        Assert.Contains("text/plain", kind.Message, StringComparison.Ordinal);
        Assert.StartsWith("cut.png: ", broken.Message, StringComparison.Ordinal);
        Assert.Equal(FailureKind.InputFile, broken.Kind);
        Assert.DoesNotContain('\n', kind.Message + broken.Message);
    }

    [Fact]
    public async Task ATextOnlyModelRefusesImagesInOneLine()
    {
        using var generator = OnnxEmbeddingGenerator.Create(TestAssets.MiniLmDirectory);

        var error = await Assert.ThrowsAsync<ImagesNotSupportedException>(() => generator.GenerateAsync([new DataContent(SeededImages.Png(Size, Size, 6), "image/png")], cancellationToken: Token));

        Assert.Equal(FailureKind.Usage, error.Kind);
        Assert.Contains(TestAssets.MiniLmDirectory, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public async Task TheServiceRegistrationMakesTheImageGeneratorResolvable()
    {
        using var temp = new TempDirectory();
        var services = new ServiceCollection();
        services.AddT5Gemma2Rag(o =>
        {
            o.EmbeddingModelDirectory = tiny.ConvertedDirectory;
            o.Store = temp.Combine("store");
        });
        using var provider = services.BuildServiceProvider();

        var images = provider.GetRequiredService<IEmbeddingGenerator<DataContent, Embedding<float>>>();
        var embedded = await images.GenerateAsync([new DataContent(SeededImages.Png(Size, Size, 7), "image/png")], cancellationToken: Token);

        Assert.Same(provider.GetRequiredService<OnnxEmbeddingGenerator>(), images);
        Assert.Equal(provider.GetRequiredService<OnnxEmbeddingGenerator>().Dimensions, embedded[0].Vector.Length);
    }
}
