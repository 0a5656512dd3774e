using Microsoft.Extensions.AI;
using T5Gemma2.Rag.Encoder.Checkpoints;
using T5Gemma2.Rag.Encoder.Conversion;
using T5Gemma2.Rag.Encoder.Generation;
using T5Gemma2.Rag.Encoder.Images;
using T5Gemma2.Rag.Encoder.Models;
using T5Gemma2.Rag.Tests.Conversion;
using T5Gemma2.Rag.Tests.Images;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Generation;

/// <summary>
/// The decoder answering over images on the tiny preset: first-step and later logits with two images among text
/// against the double-precision reference (tower, projector, encoder with the features at the soft tokens, decoder),
/// answers that depend on the image, batches and beams with images, and the one-line refusals.
/// </summary>
public sealed class ImageGenerationTests(SharedTinyT5Gemma2 tiny) : IDisposable
{
    private readonly Seq2SeqGenerator _sut = Seq2SeqGenerator.Create(tiny.ConvertedDirectory);

    public void Dispose() => this._sut.Dispose();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public void LogitsWithImagesAmongTextMatchTheReference()
    {
        var images = VisionParityTests.RandomImages(this._sut.Model.RequireVision().ImageSize, count: 2, seed: 11);
        int[] ids = this._sut.CreateImagePrompt().AddText("Compare").AddImage().AddText(" with").AddImage().AddText(" please.").Build();
        int[] decoderIds = [2, 10, 20, 256000, 40, 50];

        float[] logits = this._sut.Logits(EncoderInput.WithImages(ids, images), decoderIds, Token);

        using var weights = SafeTensorsCheckpoint.Open(tiny.CheckpointDirectory);
        var reference = new ReferenceEncoder(tiny.CheckpointDirectory, weights);
        var vision = new ReferenceVision(tiny.CheckpointDirectory, weights);
        // One row per image soft token, image by image, as the encoder's scatter fills them.
        float[][] features = [.. images.SelectMany(image => vision.Features(image.Values)).Select(row => row.Select(v => (float)v).ToArray())];
        long[] input = [.. ids.Select(i => (long)i)];
        int vocabulary = logits.Length / decoderIds.Length;
        double worst = 0;
        foreach (int t in new[] { 0, 5 })
        {
            double[] expected = reference.DecoderLastLogits(input, [.. input.Select(_ => 1L)], decoderIds[..(t + 1)], features);
            for (int v = 0; v < vocabulary; v++)
            {
                worst = Math.Max(worst, Math.Abs(expected[v] - logits[t * vocabulary + v]));
            }
        }

        Assert.True(worst <= 1e-4, $"max abs logit difference with images {worst:E2}");
        TestContext.Current.TestOutputHelper?.WriteLine($"decoder logits with two images: max abs difference to the reference {worst:E2}");
    }

    [Fact]
    public async Task TheAnswerDependsOnTheImageAndBatchesAndBeamsAgreeWithSingleRuns()
    {
        int size = this._sut.Model.RequireVision().ImageSize;
        var first = VisionParityTests.RandomImages(size, count: 1, seed: 21);
        var second = VisionParityTests.RandomImages(size, count: 1, seed: 22);
        var options = new GenerationOptions { MaxNewTokens = 12, MinNewTokens = 12 };

        var withFirst = await this._sut.GenerateAsync("What is shown?", first, options, Token);
        var withSecond = await this._sut.GenerateAsync("What is shown?", second, options, Token);
        var textOnly = await this._sut.GenerateAsync("What is shown?", options, Token);
        var batch = await this._sut.GenerateAsync([this._sut.CreateInput("What is shown?", first), this._sut.CreateInput("What is shown?", []), this._sut.CreateInput("What is shown?", second)], options, Token);

        Assert.NotEqual(withFirst.TokenIds, withSecond.TokenIds);
        Assert.NotEqual(withFirst.TokenIds, textOnly.TokenIds);
        Assert.Equal(withFirst.TokenIds, batch[0].TokenIds);
        Assert.Equal(textOnly.TokenIds, batch[1].TokenIds);
        Assert.Equal(withSecond.TokenIds, batch[2].TokenIds);

        var beams = await this._sut.GenerateAsync([this._sut.CreateInput("What is shown?", first)], new GenerationOptions { MaxNewTokens = 6, NumBeams = 2 }, Token);
        var streamed = string.Concat(await this._sut.GenerateStreamingAsync(this._sut.CreateInput("What is shown?", first), options, Token).ToListAsync(Token));
        Assert.NotEmpty(beams[0].TokenIds);
        Assert.Equal(withFirst.Text, streamed);
    }

    [Fact]
    public async Task ImageBlocksThatDisagreeWithTheImagesAreRefusedInOneLine()
    {
        var images = VisionParityTests.RandomImages(this._sut.Model.RequireVision().ImageSize, count: 2, seed: 31);
        int[] oneBlock = this._sut.CreateImagePrompt().AddImage().AddText("two images, one block").Build();

        var error = await Assert.ThrowsAsync<ArgumentException>(() => this._sut.GenerateAsync([EncoderInput.WithImages(oneBlock, images)], cancellationToken: Token));
        Assert.Contains("4 image soft tokens", error.Message, StringComparison.Ordinal);
        Assert.Contains("2 image(s)", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public async Task ATextOnlyModelRefusesAnImageNamingItsDirectory()
    {
        using var temp = new TempDirectory();
        RandomCheckpoint.Create(T5Gemma2Preset.Tiny with { Vision = null }, 5, temp.Combine("hf"), TestAssets.GemmaTokenizerDirectory, Token);
        var converted = CheckpointConverter.Convert(temp.Combine("hf"), temp.Combine("onnx"), cancellationToken: Token);
        using var textOnly = Seq2SeqGenerator.Create(converted.OutputDirectory);
        var image = new PixelValues(28, 28, new float[3 * 28 * 28]);

        var error = await Assert.ThrowsAsync<ImagesNotSupportedException>(() => textOnly.GenerateAsync("What is shown?", [image], cancellationToken: Token));
        Assert.Contains(converted.OutputDirectory, error.Message, StringComparison.Ordinal);
        Assert.NotEmpty((await textOnly.GenerateAsync("still answers text", new GenerationOptions { MaxNewTokens = 2 }, Token)).TokenIds);
    }

    [Fact]
    public async Task TheChatClientPutsImagePartsWhereTheyStandAmongTheTexts()
    {
        using var chat = new Seq2SeqChatClient(this._sut);
        byte[] png = File.ReadAllBytes(TestImages.PathOf("photo-640x480.png"));
        byte[] jpeg = File.ReadAllBytes(TestImages.PathOf("photo-2000x1500.jpg"));
        var options = new ChatOptions { MaxOutputTokens = 10 };
        var generation = new GenerationOptions { MaxNewTokens = 10 };
        ChatMessage[] messages =
        [
            new(ChatRole.System, "Answer briefly."),
            new(ChatRole.User, [new TextContent("Compare"), new DataContent(png, "image/png"), new TextContent(" with"), new DataContent($"data:image/jpeg;base64,{Convert.ToBase64String(jpeg)}")]),
        ];

        var response = await chat.GetResponseAsync(messages, options, Token);
        var streamed = string.Concat((await chat.GetStreamingResponseAsync(messages, options, Token).ToListAsync(Token)).Select(u => u.Text));

        // The same input built by hand: texts joined by a newline, the images' blocks where they stood.
        int[] ids = this._sut.CreateImagePrompt().AddText("Answer briefly.\nCompare").AddImage().AddText(" with").AddImage().Build();
        var expected = await this._sut.GenerateAsync([EncoderInput.WithImages(ids, [this._sut.LoadImage(TestImages.PathOf("photo-640x480.png"), Token), this._sut.LoadImage(TestImages.PathOf("photo-2000x1500.jpg"), Token)])], generation, Token);
        var swapped = await chat.GetResponseAsync([messages[0], new(ChatRole.User, [new TextContent("Compare"), new DataContent(jpeg, "image/jpeg"), new TextContent(" with"), new DataContent(png, "image/png")])], options, Token);

        Assert.Equal(expected[0].Text, response.Text);
        Assert.Equal(ids.Length, response.Usage!.InputTokenCount);
        Assert.Equal(response.Text, streamed);
        Assert.NotEqual(response.Text, swapped.Text);
    }

    [Fact]
    public async Task TheChatClientRefusesDataThatIsNoImageAndABrokenImageNamesItself()
    {
        using var chat = new Seq2SeqChatClient(this._sut);

        var pdf = await Assert.ThrowsAsync<ArgumentException>(() => chat.GetResponseAsync([new ChatMessage(ChatRole.User, [new TextContent("Read"), new DataContent(new byte[] { 37, 80, 68, 70 }, "application/pdf")])], cancellationToken: Token));
        var broken = await Assert.ThrowsAsync<ImageFileException>(() => chat.GetResponseAsync([new ChatMessage(ChatRole.User, [new DataContent(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0, 1, 2 }, "image/png") { Name = "screenshot.png" }])], cancellationToken: Token));

        Assert.Contains("application/pdf", pdf.Message, StringComparison.Ordinal);
        Assert.Contains("screenshot.png", broken.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', broken.Message);
    }
}
