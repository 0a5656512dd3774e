using System.Buffers;
using System.Text;
using Microsoft.ML.Tokenizers;
using T5Gemma2.Rag.Encoder.Tokenization;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Tokenization;

/// <summary>The real tokenizer through the Microsoft.ML.Tokenizers API, and the bad inputs of the issue.</summary>
public sealed class GemmaTokenizerBehaviourTests(SharedGemmaTokenizer shared)
{
    private const string Sample = "Ünïcödé façade — 東京タワー and 🇺🇸 flags, <start_of_turn>user\n\tcode(x) => x * 2;  𠀀 end";

    private readonly GemmaTokenizer _sut = shared.Tokenizer;

    [Fact]
    public void SpecialIdsComeFromTheFilesBesideTheTokenizer()
    {
        // tokenizer.md: <pad> 0, <eos> 1, <bos> 2, <unk> 3; tokenizer_config.json names <end_of_turn> (106) as eos.
        Assert.Equal(2, this._sut.BeginningOfSentenceId);
        Assert.Equal(0, this._sut.PaddingId);
        Assert.Equal(3, this._sut.UnknownId);
        Assert.Equal(106, this._sut.EndOfSentenceId);
        Assert.True(this._sut.AddBeginningOfSentence);
        Assert.Equal(262_145, this._sut.VocabularySize);
        Assert.True(this._sut.IsSpecialToken(1));
        Assert.False(this._sut.IsSpecialToken(138));
    }

    [Fact]
    public void WorksThroughTheBaseTokenizerType()
    {
        Tokenizer tokenizer = this._sut;

        var ids = tokenizer.EncodeToIds(Sample);
        var tokens = tokenizer.EncodeToTokens(Sample, out string? normalized);

        Assert.Null(normalized);
        Assert.Equal(ids, tokens.Select(t => t.Id));
        Assert.Equal(ids.Count, tokenizer.CountTokens(Sample));
        Assert.Equal("<bos>" + Sample, tokenizer.Decode(ids));
        // Offsets cover the text without gaps: each token starts where the previous one ended, or shares a character's range (byte tokens).
        int end = 0;
        Range previous = default;
        foreach (var token in tokens.Skip(1))
        {
            bool continuesCharacter = token.Offset.Equals(previous);
            Assert.True(continuesCharacter || token.Offset.Start.Value == end, $"token {token.Value} at {token.Offset} does not follow {end}");
            previous = token.Offset;
            end = token.Offset.End.Value;
        }

        Assert.Equal(Sample.Length, end);
    }

    [Fact]
    public void MaxTokenCountNeverCutsACharacterApart()
    {
        const string text = "ab 𠀀𠀀 cd"; // each U+20000 is four byte tokens
        var all = this._sut.EncodeToTokens(text, out _);
        for (int max = 0; max <= all.Count; max++)
        {
            var ids = this._sut.EncodeToIds(text, max, out _, out int consumed);
            Assert.True(ids.Count <= max);
            Assert.Equal(all.Take(ids.Count).Select(t => t.Id), ids);
            // Everything consumed decodes back to the consumed text.
            Assert.Equal(text[..consumed], this._sut.Decode(ids, skipSpecialTokens: true));
        }
    }

    [Fact]
    public void GetIndexByTokenCountFromEitherEndFindsCutsThatRespectTheLimit()
    {
        string text = string.Concat(Enumerable.Repeat(Sample + " ", 20));
        var all = this._sut.EncodeToTokens(text, out _);
        for (int max = 1; max < 200; max += 13)
        {
            int index = this._sut.GetIndexByTokenCount(text, max, out _, out int count);
            Assert.True(count <= max);
            Assert.Equal(count, this._sut.CountTokens(text[..index]));

            // From the end: bos plus the last tokens of the whole text, never more than the limit, and one more token would not fit.
            int fromEnd = this._sut.GetIndexByTokenCountFromEnd(text, max, out _, out int tailCount);
            Assert.True(tailCount <= max, $"max {max}: {tailCount} tokens");
            int textTokens = tailCount - 1;
            Assert.Equal(textTokens == 0 ? text.Length : all[^textTokens].Offset.Start.Value, fromEnd);
            if (textTokens < all.Count - 1)
            {
                // The next token to the left, with the other byte tokens of its character, would not have fitted.
                var previous = all[^(textTokens + 1)].Offset;
                int group = all.Count(t => t.Offset.Equals(previous));
                Assert.True(tailCount + group > max, $"max {max}: a larger tail would have fitted");
            }
        }
    }

    [Fact]
    public void SpanDecodeWritesAllThatFitsAndNeverSplitsACharacter()
    {
        var ids = this._sut.EncodeToIds("x𠀀y 東京", addBeginningOfSentence: false, addEndOfSentence: false);
        string full = this._sut.Decode(ids);
        // Where a prefix of the ids decodes (by the string decode, checked against Hugging Face) to a prefix of the text.
        int[] boundaries = [.. Enumerable.Range(0, ids.Count + 1)
            .Select(k => this._sut.Decode(ids.Take(k)))
            .Where(prefix => full.StartsWith(prefix, StringComparison.Ordinal) && !prefix.Contains('\uFFFD', StringComparison.Ordinal))
            .Select(prefix => prefix.Length)];
        Assert.Contains(1, boundaries); // "x" alone fits in one char

        for (int room = 0; room <= full.Length; room++)
        {
            var destination = new char[room];
            var status = this._sut.Decode(ids, destination, out int idsConsumed, out int written);

            int expected = boundaries.Where(b => b <= room).Max();
            Assert.Equal(expected, written);
            Assert.Equal(full[..written], new string(destination, 0, written));
            Assert.Equal(full[..written], this._sut.Decode(ids.Take(idsConsumed)));
            Assert.Equal(room >= full.Length ? OperationStatus.Done : OperationStatus.DestinationTooSmall, status);
        }
    }

    [Fact]
    public void ConcurrentEncodingGivesTheSameIdsAsSequential()
    {
        string[] texts = [.. Enumerable.Range(0, 64).Select(i => $"{i} {Sample} {new string('x', i)} {i * 7919}")];
        var expected = texts.Select(t => string.Join(",", this._sut.EncodeToIds(t))).ToArray();

        var actual = new string[texts.Length];
        Parallel.For(0, texts.Length * 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            int k = i % texts.Length;
            actual[k] = string.Join(",", this._sut.EncodeToIds(texts[k]));
        });

        Assert.Equal(expected, actual);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("\n\n\t \r\n")]
    public void EmptyAndWhitespaceOnlyTextEncodesWithoutLoss(string text)
    {
        var ids = this._sut.EncodeToIds(text, addBeginningOfSentence: true, addEndOfSentence: false);

        Assert.Equal(2, ids[0]);
        Assert.Equal(text, this._sut.Decode(ids, skipSpecialTokens: true));
        Assert.Equal(text.Length == 0, ids.Count == 1);
    }

    [Fact]
    public void OneMegabyteStringEncodesAndRoundTrips()
    {
        var builder = new StringBuilder();
        var random = new Random(7);
        while (builder.Length < 1 << 20)
        {
            builder.Append(random.Next(4) switch { 0 => "lorem ipsum ", 1 => "数据 ", 2 => "🙂", _ => random.Next().ToString() });
        }

        string text = builder.ToString();
        var ids = this._sut.EncodeToIds(text, addBeginningOfSentence: false, addEndOfSentence: false);

        Assert.True(ids.Count > 100_000);
        Assert.Equal(text, this._sut.Decode(ids));
    }

    [Fact]
    public void TextOfOnlySpecialTokensMapsToTheirIds()
    {
        var ids = this._sut.EncodeToIds("<bos><eos><pad><start_of_turn>", addBeginningOfSentence: false, addEndOfSentence: false);

        Assert.Equal([2, 1, 0, 105], ids);
        Assert.Equal("", this._sut.Decode(ids, skipSpecialTokens: true));
    }

    [Fact]
    public void LoneSurrogatesAreReadAsReplacementCharacters()
    {
        string broken = "a\uD800b\uDC00c";
        string repaired = "a\uFFFDb\uFFFDc";

        Assert.Equal(this._sut.EncodeToIds(repaired), this._sut.EncodeToIds(broken));
        Assert.Equal(repaired, this._sut.Decode(this._sut.EncodeToIds(broken, addBeginningOfSentence: false, addEndOfSentence: false)));
    }

    [Fact]
    public void TwoArgumentCallsMeanTheSameThroughEitherType()
    {
        // EncodeToIds(text, bool) is the base class's (considerPreTokenization); bos is chosen with the three-flag overload only.
        Tokenizer asBase = this._sut;

        Assert.Equal(asBase.EncodeToIds("same call", false), this._sut.EncodeToIds("same call", false));
        Assert.Equal(2, this._sut.EncodeToIds("same call", false)[0]);
    }

    [Fact]
    public void IdsOutsideTheVocabularyAreDroppedWhenDecoding()
    {
        var ids = this._sut.EncodeToIds("hello", addBeginningOfSentence: false, addEndOfSentence: false).Append(-5).Append(int.MaxValue);

        Assert.Equal("hello", this._sut.Decode(ids));
    }
}
