using T5Gemma2.Rag.Encoder.Models;
using T5Gemma2.Rag.Encoder.Tokenization;
using T5Gemma2.Rag.Indexer.Documents;
using T5Gemma2.Rag.Packing;
using T5Gemma2.Rag.Retrieval;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Answering;

/// <summary>
/// Image passages and question images in the packed encoder input, with the tiny vision model's image tokens (4 per
/// image): each image is a whole block counted against the budget and listed in block order; without a vision model an
/// image passage is its nearby text.
/// </summary>
public sealed class ImagePassagePackingTests(SharedTinyT5Gemma2 tiny)
{
    private static readonly PassageImage s_diagram = new("image/png", [0x89, 0x50, 0x4E, 0x47, 1]);
    private static readonly PassageImage s_photo = new("image/jpeg", [0xFF, 0xD8, 0xFF, 2]);
    private static readonly PassageImage s_question = new("image/png", [0x89, 0x50, 0x4E, 0x47, 3]);

    [Fact]
    public void AnImagePassageIsItsHeaderItsWholeBlockAndItsNearbyTextWithinEveryBudget()
    {
        var (tokenizer, vision) = this.Open();
        var packer = new ContextPacker(tokenizer, 131_072, vision);
        RetrievedPassage[] passages =
        [
            Text("a", "The pump is serviced every six months by the facilities team.", 0.9),
            Image("b", "Figure 2: the pump's wiring diagram.", s_diagram, 0.8, page: 4),
            Image("c", "", s_photo, 0.7),
        ];
        int[] block = [108, vision.BeginOfImageTokenId, .. Enumerable.Repeat(vision.ImageTokenId, vision.TokensPerImage), vision.EndOfImageTokenId, 108];

        var whole = packer.Pack("How is the pump wired?", passages);
        Assert.Equal([s_diagram, s_photo], whole.Images);
        Assert.Equal(2, Occurrences(whole.InputIds, block));
        var diagram = whole.Passages.Single(p => p.Passage.DocumentId == "b");
        int[] header = [.. tokenizer.EncodeToIdsAsPlainText($"[{diagram.Number}] Title b — /kb/b.pdf › p. 4\n")];
        int[] body = [.. tokenizer.EncodeToIdsAsPlainText("Figure 2: the pump's wiring diagram.\n\n")];
        Assert.Equal(1, Occurrences(whole.InputIds, [.. header, .. block, .. body]));
        Assert.Equal(header.Length + block.Length + body.Length, diagram.TokenCount);

        for (int budget = 40; budget <= whole.TokenCount + 2; budget++)
        {
            var context = packer.Pack("How is the pump wired?", passages, new PackingOptions { TokenBudget = budget });
            Assert.True(context.TokenCount <= budget, $"{context.TokenCount} tokens over a budget of {budget}");
            int softTokens = context.InputIds.Count(id => id == vision.ImageTokenId);
            Assert.Equal(context.Images.Count * vision.TokensPerImage, softTokens); // an image is never cut
            Assert.Equal(context.Images.Count, Occurrences(context.InputIds, block));
            Assert.Equal(context.Passages.Where(p => p.Passage.Kind == PassageKind.Image).Select(p => p.Passage.Image), context.Images);
        }
    }

    [Theory]
    [InlineData(QuestionPlacement.BeforePassages)]
    [InlineData(QuestionPlacement.AfterPassages)]
    public void TheQuestionsImagesFollowTheQuestionInBlockOrder(QuestionPlacement placement)
    {
        var (tokenizer, vision) = this.Open();
        var packer = new ContextPacker(tokenizer, 131_072, vision);

        var context = packer.Pack("What is this part?", [Image("b", "Figure 2", s_diagram, 0.8)], new PackingOptions { QuestionPlacement = placement }, [s_question]);

        PassageImage[] expected = placement == QuestionPlacement.BeforePassages ? [s_question, s_diagram] : [s_diagram, s_question];
        Assert.Equal(expected, context.Images);
        int question = IndexOf(context.InputIds, [.. tokenizer.EncodeToIdsAsPlainText("Question: What is this part?\n")]);
        int firstBlock = Array.IndexOf(context.InputIds, vision.BeginOfImageTokenId);
        int lastBlock = Array.LastIndexOf(context.InputIds, vision.BeginOfImageTokenId);
        Assert.True(question >= 0, context.Text);
        Assert.True(placement == QuestionPlacement.BeforePassages ? firstBlock > question : lastBlock > question && firstBlock < question, context.Text);
    }

    [Fact]
    public void WithoutAVisionModelAnImagePassageIsItsNearbyTextAndQuestionImagesAreRefused()
    {
        var (tokenizer, vision) = this.Open();
        var packer = new ContextPacker(tokenizer, 131_072);

        var context = packer.Pack("How is the pump wired?", [Image("b", "Figure 2: the wiring diagram.", s_diagram, 0.8), Image("c", "  ", s_photo, 0.7)]);

        Assert.Empty(context.Images);
        Assert.DoesNotContain(context.InputIds, id => id == vision.ImageTokenId || id == vision.BeginOfImageTokenId);
        Assert.Contains("Figure 2: the wiring diagram.", context.Text, StringComparison.Ordinal);
        Assert.Equal(1, context.LeftOut);
        var error = Assert.Throws<ArgumentException>(() => packer.Pack("What is this?", [], questionImages: [s_question]));
        Assert.Contains("takes no images", error.Message, StringComparison.Ordinal);
    }

    private (GemmaTokenizer Tokenizer, VisionConfig Vision) Open()
    {
        var model = ModelDirectory.Open(tiny.ConvertedDirectory);
        return ((GemmaTokenizer)model.CreateTokenizer(), model.RequireVision());
    }

    private static RetrievedPassage Text(string document, string text, double score) =>
        new([$"{document}-0"], document, $"/kb/{document}.md", $"Title {document}", null, null, 0, text.Length, 0, text, score);

    private static RetrievedPassage Image(string document, string nearbyText, PassageImage image, double score, int? page = null) =>
        new([$"{document}-img"], document, $"/kb/{document}.pdf", $"Title {document}", null, page, 0, nearbyText.Length, 0, nearbyText, score)
        {
            Kind = PassageKind.Image,
            Image = image,
        };

    private static int Occurrences(int[] ids, int[] run) => Enumerable.Range(0, ids.Length - run.Length + 1).Count(i => ids.AsSpan(i, run.Length).SequenceEqual(run));

    private static int IndexOf(int[] ids, int[] run) => ids.AsSpan().IndexOf(run);
}
