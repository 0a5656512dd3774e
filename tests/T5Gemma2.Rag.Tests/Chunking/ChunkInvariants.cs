using Microsoft.ML.Tokenizers;
using T5Gemma2.Rag.Encoder.Tokenization;
using T5Gemma2.Rag.Indexer.Chunking;
using T5Gemma2.Rag.Indexer.Documents;

namespace T5Gemma2.Rag.Tests.Chunking;

/// <summary>What every chunking must satisfy, checked with counts taken independently of the chunker.</summary>
internal static class ChunkInvariants
{
    /// <summary>Tokens without special tokens, asked of each tokenizer in its own terms (not through the chunker's overhead subtraction).</summary>
    public static int CountWithoutSpecials(Tokenizer tokenizer, string text) => tokenizer switch
    {
        GemmaTokenizer gemma => gemma.EncodeToIds(text, addBeginningOfSentence: false, addEndOfSentence: false).Count,
        BertTokenizer bert => bert.EncodeToIds(text, addSpecialTokens: false).Count,
        _ => throw new NotSupportedException(tokenizer.GetType().Name),
    };

    public static void Check(LoadedDocument document, IReadOnlyList<TextChunk> chunks, Tokenizer tokenizer, ChunkingOptions options)
    {
        string text = document.Text;
        var sections = document.Sections.Count > 0 ? document.Sections : [new DocumentSection(0, text.Length)];
        for (int i = 0; i < chunks.Count; i++)
        {
            var chunk = chunks[i];
            Assert.Equal(i, chunk.Index);
            Assert.InRange(chunk.Start, 0, text.Length - 1);
            Assert.InRange(chunk.Length, 1, text.Length - chunk.Start);
            string chunkText = chunk.GetText(text);
            Assert.False(char.IsWhiteSpace(chunkText[0]), $"chunk {i} starts with whitespace");
            Assert.False(char.IsWhiteSpace(chunkText[^1]), $"chunk {i} ends with whitespace");

            int measured = CountWithoutSpecials(tokenizer, chunkText);
            Assert.Equal(measured, chunk.TokenCount);
            Assert.True(measured <= options.MaxTokens, $"chunk {i} has {measured} tokens, over {options.MaxTokens}");

            var section = sections.Single(s => s.Start <= chunk.Start && chunk.Start < s.Start + s.Length);
            Assert.True(chunk.End <= section.Start + section.Length, $"chunk {i} ({chunk.Start}..{chunk.End}) crosses the end of section {section}");
            Assert.Equal(section.HeadingPath, chunk.HeadingPath);
            Assert.Equal(section.Page, chunk.Page);

            if (i > 0)
            {
                var previous = chunks[i - 1];
                Assert.True(chunk.Start > previous.Start && chunk.End > previous.End, $"chunk {i} does not move forward from chunk {i - 1}");
                if (chunk.Start < previous.End)
                {
                    Assert.True(options.OverlapTokens > 0, $"chunk {i} overlaps chunk {i - 1} without OverlapTokens");
                    Assert.True(previous.Start >= section.Start, $"chunk {i} overlaps a chunk of another section");
                    int shared = CountWithoutSpecials(tokenizer, text[chunk.Start..previous.End]);
                    Assert.True(shared <= options.OverlapTokens, $"chunk {i} repeats {shared} tokens, over {options.OverlapTokens}");
                }
            }
        }

        // Ignoring overlap, the chunks cover every character that is not whitespace.
        int coveredTo = 0;
        foreach (var chunk in chunks)
        {
            AssertWhiteSpace(text, coveredTo, chunk.Start);
            coveredTo = Math.Max(coveredTo, chunk.End);
        }

        AssertWhiteSpace(text, coveredTo, text.Length);
    }

    public static List<string> Texts(LoadedDocument document, IReadOnlyList<TextChunk> chunks) => [.. chunks.Select(c => c.GetText(document.Text))];

    private static void AssertWhiteSpace(string text, int start, int end)
    {
        for (int i = start; i < end; i++)
        {
            Assert.True(char.IsWhiteSpace(text[i]), $"character {i} ('{text[i]}') is in no chunk");
        }
    }
}
