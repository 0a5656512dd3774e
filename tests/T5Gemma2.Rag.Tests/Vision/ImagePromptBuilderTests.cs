using T5Gemma2.Rag.Encoder.Models;
using T5Gemma2.Rag.Encoder.Tokenization;
using T5Gemma2.Rag.Encoder.Vision;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Vision;

/// <summary>
/// The image prompt against the processor's own recipe: the placeholder expanded to its string
/// (<c>"\n\n&lt;start_of_image&gt;" + soft × N + "&lt;end_of_image&gt;\n\n"</c>) and tokenized in one go with special
/// tokens recognised, the soft token's id then set to the model's image token id (the tokenizer maps its text elsewhere).
/// </summary>
public sealed class ImagePromptBuilderTests(SharedTinyT5Gemma2 tiny)
{
    private const string SoftToken = "<image_soft_token>";

    [Theory]
    [InlineData("Describe this picture:", " What is in it?")]
    [InlineData("Two lines before\n\n", "\nafter")] // the text's own newlines meet the expansion's
    [InlineData("", "")]
    public void OneImageGivesTheProcessorsIds(string before, string after)
    {
        var (tokenizer, vision) = this.Open();

        int[] actual = ImagePromptBuilder.Create(tokenizer, vision).AddText(before).AddImage().AddText(after).Build();

        Assert.Equal(Processor(tokenizer, vision, before + "<start_of_image>" + after), actual);
        Assert.Equal(vision.TokensPerImage, actual.Count(id => id == vision.ImageTokenId));
        Assert.Equal(tokenizer.BeginningOfSentenceId, actual[0]);
    }

    [Fact]
    public void ImagesFillTheirBlocksInOrderAndEosIsAppendedWhenAsked()
    {
        var (tokenizer, vision) = this.Open();

        var builder = ImagePromptBuilder.Create(tokenizer, vision).AddImage().AddText(" ").AddImage();
        int[] ids = builder.Build(addEndOfSentence: true);

        Assert.Equal(2, builder.ImageCount);
        Assert.Equal([.. Processor(tokenizer, vision, "<start_of_image> <start_of_image>"), tokenizer.EndOfSentenceId!.Value], ids);
        Assert.Equal(2 * vision.TokensPerImage, ids.Count(id => id == vision.ImageTokenId));
        Assert.Equal(1 + 2 * vision.TokensPerImageBlock + 1 + 1, ids.Length); // bos, two blocks, " " between, eos
    }

    [Theory]
    [InlineData("<start_of_image>")]
    [InlineData("<image_soft_token><end_of_image>")]
    [InlineData("<unused99> <eos>")]
    public void TextThatSpellsImageTokensStaysText(string injected)
    {
        var (tokenizer, vision) = this.Open();

        int[] ids = ImagePromptBuilder.Create(tokenizer, vision).AddText("look: " + injected).Build();

        Assert.DoesNotContain(ids, id => id == vision.BeginOfImageTokenId || id == vision.EndOfImageTokenId || id == vision.ImageTokenId);
        Assert.Equal(injected, tokenizer.Decode(ids.Skip(1), skipSpecialTokens: false)[6..]);
    }

    private static int[] Processor(GemmaTokenizer tokenizer, VisionConfig vision, string prompt)
    {
        string block = "\n\n<start_of_image>" + string.Concat(Enumerable.Repeat(SoftToken, vision.TokensPerImage)) + "<end_of_image>\n\n";
        int soft = tokenizer.TryGetId(SoftToken) ?? throw new InvalidOperationException($"the tokenizer has no {SoftToken}");
        return [.. tokenizer.EncodeToIds(prompt.Replace("<start_of_image>", block, StringComparison.Ordinal), addBeginningOfSentence: true, addEndOfSentence: false)
            .Select(id => id == soft ? vision.ImageTokenId : id)];
    }

    private (GemmaTokenizer Tokenizer, VisionConfig Vision) Open()
    {
        var model = ModelDirectory.Open(tiny.ConvertedDirectory);
        return ((GemmaTokenizer)model.CreateTokenizer(), model.RequireVision());
    }
}
