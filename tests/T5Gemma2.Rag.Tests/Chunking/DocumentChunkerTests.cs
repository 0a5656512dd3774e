using System.Text;
using Microsoft.ML.Tokenizers;
using T5Gemma2.Rag.Encoder.Models;
using T5Gemma2.Rag.Indexer.Chunking;
using T5Gemma2.Rag.Indexer.Documents;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Chunking;

/// <summary>
/// Chunking with the two real tokenizers the project embeds with: Gemma 3's BPE (which counts bos) and MiniLM's
/// WordPiece (whose normalizer lower-cases and spaces out CJK). Every test checks the full invariants too.
/// </summary>
public sealed class DocumentChunkerTests(SharedGemmaTokenizer gemma)
{
    private static readonly Lazy<Tokenizer> s_miniLm = new(() => ModelDirectory.Open(TestAssets.MiniLmDirectory).CreateTokenizer());

    private readonly Tokenizer _gemma = gemma.Tokenizer;

    public static TheoryData<string> Tokenizers => ["gemma", "minilm"];

    [Theory]
    [MemberData(nameof(Tokenizers))]
    public void EmptyOrWhiteSpaceDocumentHasNoChunks(string tokenizerName)
    {
        var sut = this.Chunker(tokenizerName, new ChunkingOptions { MaxTokens = 64, OverlapTokens = 8 });

        Assert.Empty(sut.Chunk(ChunkingCorpus.Document("")));
        Assert.Empty(sut.Chunk(ChunkingCorpus.Document(" \n\n\t  \n ")));
        Assert.Empty(sut.Chunk(ChunkingCorpus.Document("\n\n \n", [new DocumentSection(0, 2, "A"), new DocumentSection(2, 2, "B")])));
    }

    [Theory]
    [MemberData(nameof(Tokenizers))]
    public void ShortDocumentIsOneTrimmedChunkWithItsExactCount(string tokenizerName)
    {
        var tokenizer = this.TokenizerNamed(tokenizerName);
        var document = ChunkingCorpus.Document("\n  Hello world. This is short.\n\nA second paragraph.\n\n");
        var sut = new DocumentChunker(tokenizer, new ChunkingOptions { MaxTokens = 64 });

        var chunk = Assert.Single(sut.Chunk(document));

        Assert.Equal("Hello world. This is short.\n\nA second paragraph.", chunk.GetText(document.Text));
        Assert.Equal(ChunkInvariants.CountWithoutSpecials(tokenizer, "Hello world. This is short.\n\nA second paragraph."), chunk.TokenCount);
        Assert.Equal(sut.CountTokens("Hello world. This is short.\n\nA second paragraph."), chunk.TokenCount);
        Assert.Null(chunk.HeadingPath);
        Assert.Null(chunk.Page);
        Assert.Equal(0, chunk.Index);
    }

    [Theory]
    [MemberData(nameof(Tokenizers))]
    public void SectionsAreHardBoundariesWithExactHeadingsAndPages(string tokenizerName)
    {
        var tokenizer = this.TokenizerNamed(tokenizerName);
        string[] parts = ["Intro text here.\n\n", "Details about chunking.\n", "  Last words on page two.  "];
        string text = string.Concat(parts);
        var sections = new List<DocumentSection>
        {
            new(0, parts[0].Length, "Guide", 1),
            new(parts[0].Length, parts[1].Length, "Guide > Chunking", 1),
            new(parts[0].Length + parts[1].Length, parts[2].Length, "Guide > Chunking", 2),
        };
        var document = ChunkingCorpus.Document(text, sections);
        var options = new ChunkingOptions { MaxTokens = 128, OverlapTokens = 16 };

        var chunks = new DocumentChunker(tokenizer, options).Chunk(document);

        // Everything would fit in one chunk; the sections still cut it, and overlap never crosses them.
        Assert.Equal(["Intro text here.", "Details about chunking.", "Last words on page two."], ChunkInvariants.Texts(document, chunks));
        Assert.Equal([("Guide", (int?)1), ("Guide > Chunking", 1), ("Guide > Chunking", 2)], chunks.Select(c => (c.HeadingPath, c.Page)));
        ChunkInvariants.Check(document, chunks, tokenizer, options);
    }

    [Theory]
    [MemberData(nameof(Tokenizers))]
    public void GapsBetweenSectionsAreStillChunked(string tokenizerName)
    {
        var tokenizer = this.TokenizerNamed(tokenizerName);
        var document = ChunkingCorpus.Document("Before. Inside the section. After.", [new DocumentSection(8, 19, "Middle")]);

        var chunks = new DocumentChunker(tokenizer, new ChunkingOptions { MaxTokens = 64 }).Chunk(document);

        Assert.Equal(["Before.", "Inside the section.", "After."], ChunkInvariants.Texts(document, chunks));
        Assert.Equal([null, "Middle", null], chunks.Select(c => c.HeadingPath));
    }

    [Fact]
    public void SectionsOutsideTheTextOrOutOfOrderAreRejectedAtOnce()
    {
        var sut = new DocumentChunker(this._gemma, new ChunkingOptions { MaxTokens = 64 });

        Assert.Throws<ArgumentException>(() => sut.EnumerateChunks(ChunkingCorpus.Document("short", [new DocumentSection(2, 10)])));
        Assert.Throws<ArgumentException>(() => sut.EnumerateChunks(ChunkingCorpus.Document("short text", [new DocumentSection(4, 2), new DocumentSection(0, 3)])));
        Assert.Throws<ArgumentException>(() => sut.EnumerateChunks(ChunkingCorpus.Document("short", [new DocumentSection(-1, 2)])));
        Assert.Throws<ArgumentNullException>(() => sut.Chunk(null!));
        Assert.Throws<ArgumentNullException>(() => new DocumentChunker(null!, new ChunkingOptions { MaxTokens = 64 }));
        Assert.Throws<ArgumentNullException>(() => new DocumentChunker(this._gemma, null!));
    }

    [Theory]
    [InlineData("gemma", 0)]
    [InlineData("gemma", 24)]
    [InlineData("minilm", 0)]
    [InlineData("minilm", 24)]
    public void ParagraphsThatFitAreNeverCut(string tokenizerName, int overlapTokens)
    {
        var tokenizer = this.TokenizerNamed(tokenizerName);
        var document = ChunkingCorpus.Document(ChunkingCorpus.Prose(seed: 1, paragraphs: 120, maxSentences: 14));
        var options = new ChunkingOptions { MaxTokens = 256, OverlapTokens = overlapTokens };

        var chunks = new DocumentChunker(tokenizer, options).Chunk(document);

        ChunkInvariants.Check(document, chunks, tokenizer, options);
        var paragraphs = Paragraphs(document.Text);
        int fitting = 0, cut = 0;
        foreach (var (start, end) in paragraphs)
        {
            if (ChunkInvariants.CountWithoutSpecials(tokenizer, document.Text[start..end]) <= options.MaxTokens)
            {
                fitting++;
                Assert.Contains(chunks, c => c.Start <= start && end <= c.End);
            }
            else
            {
                cut++;
            }
        }

        // The corpus must exercise both cases, and packing must combine small paragraphs.
        Assert.True(fitting > 20 && cut > 5, $"{fitting} paragraphs fit, {cut} do not");
        int shared = chunks.Count(c => paragraphs.Count(p => c.Start <= p.Start && p.End <= c.End) >= 2);
        Assert.True(shared > 5, $"only {shared} chunks hold more than one paragraph");
    }

    [Theory]
    [MemberData(nameof(Tokenizers))]
    public void LongParagraphIsCutAtSentenceEnds(string tokenizerName)
    {
        var tokenizer = this.TokenizerNamed(tokenizerName);
        var random = new Random(7);
        string[] words = ["alpha", "beta", "gamma", "delta", "retrieval", "tokens", "budget", "Zürich", "café"];
        string text = string.Join(' ', Enumerable.Range(0, 200).Select(_ =>
            "The " + string.Join(' ', Enumerable.Range(0, random.Next(3, 20)).Select(_ => words[random.Next(words.Length)])) + "."));
        var document = ChunkingCorpus.Document(text);
        var options = new ChunkingOptions { MaxTokens = 96 };

        var chunks = new DocumentChunker(tokenizer, options).Chunk(document);

        ChunkInvariants.Check(document, chunks, tokenizer, options);
        Assert.True(chunks.Count > 5);
        foreach (string chunkText in ChunkInvariants.Texts(document, chunks))
        {
            Assert.EndsWith(".", chunkText, StringComparison.Ordinal);
            Assert.StartsWith("The ", chunkText, StringComparison.Ordinal);
        }

        // Greedy packing: each chunk with the next sentence would have been over the budget.
        for (int i = 0; i + 1 < chunks.Count; i++)
        {
            int nextSentenceEnd = text.IndexOf('.', chunks[i + 1].Start) + 1;
            int together = ChunkInvariants.CountWithoutSpecials(tokenizer, text[chunks[i].Start..nextSentenceEnd]);
            Assert.True(together > options.MaxTokens, $"chunk {i} ({chunks[i].TokenCount} tokens) had room for the next sentence ({together} together)");
        }
    }

    [Theory]
    [MemberData(nameof(Tokenizers))]
    public void LongLineWithoutSentencesIsCutBetweenWords(string tokenizerName)
    {
        var tokenizer = this.TokenizerNamed(tokenizerName);
        var random = new Random(3);
        string text = string.Join(' ', Enumerable.Range(0, 3_000).Select(_ => random.Next(3) switch { 0 => "alpha", 1 => "retrieval", _ => "Zürich" }));
        var document = ChunkingCorpus.Document("Title line\n" + text);
        var options = new ChunkingOptions { MaxTokens = 100 };

        var chunks = new DocumentChunker(tokenizer, options).Chunk(document);

        ChunkInvariants.Check(document, chunks, tokenizer, options);
        Assert.True(chunks.Count > 10);
        foreach (var chunk in chunks)
        {
            Assert.True(chunk.Start == 0 || char.IsWhiteSpace(document.Text[chunk.Start - 1]), $"chunk {chunk.Index} starts inside a word");
            Assert.True(chunk.End == document.Text.Length || char.IsWhiteSpace(document.Text[chunk.End]), $"chunk {chunk.Index} ends inside a word");
        }
    }

    [Theory]
    [InlineData("gemma", "word")]
    [InlineData("gemma", "base64")]
    [InlineData("minilm", "base64")]
    [InlineData("minilm", "word")]
    public void SentenceFreeRunIsCutAtTokenBoundariesWithinTheBudget(string tokenizerName, string kind)
    {
        var tokenizer = this.TokenizerNamed(tokenizerName);
        string run = kind == "word" ? string.Concat(Enumerable.Repeat("lorem", 4_000)) : ChunkingCorpus.Base64(seed: 5, bytes: 15_000);
        var document = ChunkingCorpus.Document("Before the run.\n\n" + run + "\n\nAfter the run.");
        var options = new ChunkingOptions { MaxTokens = 128 };

        var chunks = new DocumentChunker(tokenizer, options).Chunk(document);

        ChunkInvariants.Check(document, chunks, tokenizer, options);
        int runTokens = ChunkInvariants.CountWithoutSpecials(tokenizer, run);
        if (runTokens <= options.MaxTokens)
        {
            // WordPiece reads a word over 100 characters as one [UNK]: nothing to cut.
            Assert.Contains(chunks, c => c.GetText(document.Text).Contains(run, StringComparison.Ordinal));
            return;
        }

        var runChunks = chunks.Where(c => c.Start >= 17 && c.End <= 17 + run.Length).ToList();
        Assert.True(runChunks.Count >= runTokens / options.MaxTokens, $"{runTokens} tokens in {runChunks.Count} chunks");
        for (int i = 1; i < runChunks.Count; i++)
        {
            Assert.Equal(runChunks[i - 1].End, runChunks[i].Start);
        }

        // Cut where the budget runs out, not short of it.
        Assert.All(runChunks.SkipLast(1), c => Assert.True(c.TokenCount >= options.MaxTokens - 4, $"chunk of only {c.TokenCount} tokens"));
    }

    [Theory]
    [MemberData(nameof(Tokenizers))]
    public void CjkWithoutSpacesIsCutAtItsFullStops(string tokenizerName)
    {
        var tokenizer = this.TokenizerNamed(tokenizerName);
        var document = ChunkingCorpus.Document(ChunkingCorpus.CjkSentences(seed: 11, sentences: 600));
        var options = new ChunkingOptions { MaxTokens = 80, OverlapTokens = 10 };

        var chunks = new DocumentChunker(tokenizer, options).Chunk(document);

        ChunkInvariants.Check(document, chunks, tokenizer, options);
        Assert.True(chunks.Count > 20);
        Assert.All(chunks, c => Assert.EndsWith("。", c.GetText(document.Text), StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Tokenizers))]
    public void CjkWithoutSpacesOrStopsIsCutAtTokens(string tokenizerName)
    {
        var tokenizer = this.TokenizerNamed(tokenizerName);
        string text = ChunkingCorpus.CjkSentences(seed: 12, sentences: 800).Replace("。", "", StringComparison.Ordinal);
        var document = ChunkingCorpus.Document(text);
        var options = new ChunkingOptions { MaxTokens = 64, OverlapTokens = 8 };

        var chunks = new DocumentChunker(tokenizer, options).Chunk(document);

        ChunkInvariants.Check(document, chunks, tokenizer, options);
        Assert.True(chunks.Count > 50);
        Assert.True(chunks.Skip(1).Count(c => c.Start < chunks[c.Index - 1].End) > chunks.Count / 2, "text without spaces should still overlap at token boundaries");
    }

    [Theory]
    [MemberData(nameof(Tokenizers))]
    public void OverlapRepeatsTheEndOfThePreviousChunkFromAWordStart(string tokenizerName)
    {
        var tokenizer = this.TokenizerNamed(tokenizerName);
        var document = ChunkingCorpus.Document(ChunkingCorpus.Prose(seed: 2, paragraphs: 60, maxSentences: 20));
        var options = new ChunkingOptions { MaxTokens = 128, OverlapTokens = 32 };

        var chunks = new DocumentChunker(tokenizer, options).Chunk(document);

        ChunkInvariants.Check(document, chunks, tokenizer, options);
        int overlapping = 0;
        for (int i = 1; i < chunks.Count; i++)
        {
            if (chunks[i].Start < chunks[i - 1].End)
            {
                overlapping++;
                Assert.True(char.IsWhiteSpace(document.Text[chunks[i].Start - 1]), $"overlap of chunk {i} starts inside a word");
            }
        }

        Assert.True(overlapping > (chunks.Count - 1) * 3 / 4, $"only {overlapping} of {chunks.Count - 1} chunks overlap");
    }

    [Theory]
    [MemberData(nameof(Tokenizers))]
    public void OverlapNeverPushesAChunkOverMaxTokens(string tokenizerName)
    {
        // Paragraphs of exactly MaxTokens leave no room for overlap: each must still be one whole chunk.
        var tokenizer = this.TokenizerNamed(tokenizerName);
        var options = new ChunkingOptions { MaxTokens = 60, OverlapTokens = 29 };
        var random = new Random(4);
        var paragraphs = new List<string>();
        for (int p = 0; p < 30; p++)
        {
            var builder = new StringBuilder("Start");
            while (true)
            {
                string longer = builder + " " + ChunkingCorpus.Sentence(random, 1, 1).TrimEnd('.', '!', '?').ToLowerInvariant();
                if (ChunkInvariants.CountWithoutSpecials(tokenizer, longer) > options.MaxTokens - (p % 3))
                {
                    break;
                }

                builder.Clear().Append(longer);
            }

            paragraphs.Add(builder.ToString());
        }

        var document = ChunkingCorpus.Document(string.Join("\n\n", paragraphs));

        var chunks = new DocumentChunker(tokenizer, options).Chunk(document);

        ChunkInvariants.Check(document, chunks, tokenizer, options);
        Assert.Equal(paragraphs.Count, chunks.Count);
        Assert.All(chunks, c => Assert.EndsWith(paragraphs[c.Index], c.GetText(document.Text), StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Tokenizers))]
    public void WithoutOverlapChunksDoNotShareText(string tokenizerName)
    {
        var tokenizer = this.TokenizerNamed(tokenizerName);
        var document = ChunkingCorpus.Document(ChunkingCorpus.Prose(seed: 9, paragraphs: 40));
        var options = new ChunkingOptions { MaxTokens = 50 };

        var chunks = new DocumentChunker(tokenizer, options).Chunk(document);

        ChunkInvariants.Check(document, chunks, tokenizer, options);
        for (int i = 1; i < chunks.Count; i++)
        {
            Assert.True(chunks[i].Start >= chunks[i - 1].End);
        }
    }

    [Theory]
    [MemberData(nameof(Tokenizers))]
    public void EnumerateChunksStreamsTheSameChunks(string tokenizerName)
    {
        var document = ChunkingCorpus.Large(seed: 21, targetChars: 200_000);
        var sut = this.Chunker(tokenizerName, new ChunkingOptions { MaxTokens = 200, OverlapTokens = 20 });

        var listed = sut.Chunk(document);
        var streamed = sut.EnumerateChunks(document).ToList();

        Assert.Equal(listed, streamed);
        Assert.Equal(listed.Take(3), sut.EnumerateChunks(document).Take(3));
    }

    [Theory(Timeout = 300_000)]
    [MemberData(nameof(Tokenizers))]
    public async Task FiveMegabyteDocumentChunksWithTheModelDefaults(string tokenizerName)
    {
        var tokenizer = this.TokenizerNamed(tokenizerName);
        var document = ChunkingCorpus.Large(seed: 42, targetChars: 5 * 1024 * 1024);
        var options = ChunkingOptions.ForModel(tokenizerName == "minilm" ? ModelDirectory.Open(TestAssets.MiniLmDirectory).MaxLength : 2_048);
        var sut = new DocumentChunker(tokenizer, options);

        var chunks = await Task.Run(() => sut.Chunk(document), TestContext.Current.CancellationToken);

        ChunkInvariants.Check(document, chunks, tokenizer, options);
        Assert.True(chunks.Count > 1_000, $"{chunks.Count} chunks");
        // Greedy packing keeps chunks well filled: on average over half the budget.
        Assert.True(chunks.Average(c => c.TokenCount) > options.MaxTokens / 2.0, $"average {chunks.Average(c => c.TokenCount)} tokens");
    }

    private static List<(int Start, int End)> Paragraphs(string text)
    {
        var result = new List<(int Start, int End)>();
        foreach (var match in System.Text.RegularExpressions.Regex.EnumerateMatches(text, @"\S[^\n]*(?:\n(?![ \t]*\n)[^\n]*)*"))
        {
            int end = match.Index + match.Length;
            while (char.IsWhiteSpace(text[end - 1]))
            {
                end--;
            }

            result.Add((match.Index, end));
        }

        return result;
    }

    private DocumentChunker Chunker(string tokenizerName, ChunkingOptions options) => new(this.TokenizerNamed(tokenizerName), options);

    private Tokenizer TokenizerNamed(string name) => name switch
    {
        "gemma" => this._gemma,
        "minilm" => s_miniLm.Value,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "unknown tokenizer"),
    };
}
