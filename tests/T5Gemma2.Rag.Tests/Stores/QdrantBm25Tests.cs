using System.Text;
using T5Gemma2.Rag.Indexer.Stores.Qdrant;

namespace T5Gemma2.Rag.Tests.Stores;

/// <summary>
/// The BM25 sparse vectors must match fastembed's <c>Qdrant/bm25</c> bit for bit: its stems (Snowball English as
/// rust-stemmers 1.2 has it), its token ids (|MurmurHash3_x86_32|, as Python's mmh3) and its weights.
/// </summary>
public sealed class QdrantBm25Tests
{
    // Pairs from the Snowball project's English test vocabulary (snowball-data english/voc.txt → output.txt, the
    // pre-2023 output that rust-stemmers ships as test_data/res_en.txt), chosen to cover every step and exception.
    private const string SnowballPairs = """
        consign consign|consigned consign|consigning consign|consignment consign|consist consist|consisted consist|
        consistency consist|consistent consist|consistently consist|consisting consist|consists consist|
        consolation consol|consolations consol|consolatory consolatori|console consol|consoled consol|consoles consol|
        consolidate consolid|consolidated consolid|consolidating consolid|consoling consol|consolingly consol|
        consols consol|consonant conson|consort consort|consorted consort|consorting consort|conspicuous conspicu|
        conspicuously conspicu|conspiracy conspiraci|conspirator conspir|conspirators conspir|conspire conspir|
        conspired conspir|conspiring conspir|constable constabl|constables constabl|constance constanc|
        constancy constanc|constant constant|knack knack|knackeries knackeri|knacks knack|knag knag|knave knave|
        knaves knave|knavish knavish|kneaded knead|kneading knead|knee knee|kneel kneel|kneeled kneel|kneeling kneel|
        kneels kneel|knees knee|knell knell|knelt knelt|knew knew|knick knick|knif knif|knife knife|knight knight|
        knightly knight|knights knight|knit knit|knits knit|knitted knit|knitting knit|knives knive|knob knob|
        knobs knob|knock knock|knocked knock|knocker knocker|knockers knocker|knocking knock|knocks knock|knopp knopp|
        knot knot|knots knot|generously generous|generous generous|generate generat|generation generat|
        generals general|communism communism|commune commune|communication communic|communities communiti|
        skies sky|sky sky|dying die|lying lie|tying tie|idly idl|gently gentl|ugly ugli|early earli|only onli|
        singly singl|news news|bias bias|andes andes|innings inning|canning canning|herrings herring|earring earring|
        proceed proceed|proceeded proceed|exceed exceed|succeed succeed|succeeded succeed|caresses caress|ponies poni|
        ties tie|cats cat|gas gas|this this|gaps gap|cries cri|agreed agre|feed feed|owned own|humbled humbl|
        sized size|meeting meet|stating state|hopping hop|hoping hope|tanned tan|falling fall|filing file|
        luxuriating luxuri|cry cri|by by|say say|happy happi|enjoy enjoy|rational ration|sensational sensat|
        traditional tradit|differently differ|operator oper|hopefulness hope|callousness callous|formality formal|
        sensibility sensibl|electricity electr|electrical electr|hopeful hope|goodness good|revival reviv|
        allowance allow|inference infer|adjustment adjust|dependent depend|adoption adopt|effective effect|rate rate|
        cease ceas|controlling control|roll roll|rolled roll|apology apolog|heartily heartili|fulfilling fulfil|
        fullness full|needless needless|youthfulness youth|fairly fair|really realli|lovely love|abbey abbey|
        abeyance abey|allayed allay|allays allay|boyish boyish|destroying destroy|employment employ|playfully play|
        sayings say|yelled yell|yesterday yesterday|yielding yield|yourself yourself|youth youth|'a' a|'s' s|
        'aa' aa|a' a'|a'' a'|aa' aa
        """;

    [Fact]
    public void StemsMatchTheSnowballEnglishTestVocabulary()
    {
        var pairs = SnowballPairs.Split('|', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => p.Split(' '))
            .ToList();
        Assert.True(pairs.Count > 180, $"{pairs.Count} pairs");
        var wrong = pairs.Where(p => Porter2Stemmer.Stem(p[0]) != p[1]).Select(p => $"{p[0]} → {Porter2Stemmer.Stem(p[0])}, expected {p[1]}").ToList();
        Assert.Empty(wrong);
        Assert.Equal("ab", Porter2Stemmer.Stem("ab"));
    }

    [Theory]
    [InlineData("", 0u, 0x00000000u)]
    [InlineData("", 1u, 0x514E28B7u)]
    [InlineData("", 0xFFFFFFFFu, 0x81F16F39u)]
    [InlineData("hello", 0u, 0x248BFA47u)]
    [InlineData("foo", 0u, 0xF6A5C420u)] // mmh3.hash("foo") = -156908512
    [InlineData("foo", 42u, 0xB12F489Eu)] // mmh3.hash("foo", 42) = -1322301282
    [InlineData("Hello, world!", 1234u, 0xFAF6CDB3u)]
    [InlineData("The quick brown fox jumps over the lazy dog", 0x9747B28Cu, 0x2FA826CDu)]
    public void MurmurHash3MatchesTheReferenceVectors(string text, uint seed, uint expected) =>
        Assert.Equal(expected, MurmurHash3.X86_32(Encoding.UTF8.GetBytes(text), seed));

    [Fact]
    public void TokenIdsAreTheAbsoluteSignedHash()
    {
        // mmh3.hash("foo") is -156908512, so fastembed's id is 156908512; "hello" hashes positive.
        Assert.Equal(156908512u, Bm25SparseEncoder.TokenId("foo"));
        Assert.Equal(0x248BFA47u, Bm25SparseEncoder.TokenId("hello"));

        // Hashed as UTF-8, like Python's mmh3 on str.
        int signed = unchecked((int)MurmurHash3.X86_32(Encoding.UTF8.GetBytes("καφές")));
        Assert.Equal((uint)Math.Abs((long)signed), Bm25SparseEncoder.TokenId("καφές"));
    }

    [Fact]
    public void TokenizingLowersSplitsDropsStopwordsAndStems()
    {
        var encoder = Bm25SparseEncoder.Default;

        // fastembed's own test sentence keeps quick, brown, fox, test, sentenc.
        Assert.Equal(["quick", "brown", "fox", "test", "sentenc"], encoder.Tokenize("The quick brown fox is a test sentence. !"));
        Assert.Equal(["quick", "brown", "fox", "test", "sentenc"], encoder.Tokenize("THE Quick Brown Fox IS A Test Sentence"));

        // Anything but letters, digits and underscore splits (FTS5-style syntax is plain text); apostrophes too, so "don't" leaves "t" and "don", both stopwords.
        Assert.Equal(["bread", "near", "flour", "water"], encoder.Tokenize("\"BREAD\" AND NEAR( flour* -water OR don't"));
        Assert.Equal(["snake_cas", "v2", "3", "14"], encoder.Tokenize("snake_case v2 3.14"));
        Assert.Empty(encoder.Tokenize("  ;;; the of and "));

        // Tokens over 40 characters are dropped, as fastembed's token_max_length does.
        Assert.Equal(["short"], encoder.Tokenize("short " + new string('x', 41)));
        Assert.Single(encoder.Tokenize(new string('x', 40)));

        // Python's lower(): 'İ' becomes "i" + a combining dot, which splits the word; a final capital sigma becomes 'ς'.
        Assert.Equal(["stanbul"], encoder.Tokenize("İstanbul"));
        Assert.Equal(["οδος"], encoder.Tokenize("ΟΔΟΣ"));
    }

    [Fact]
    public void DocumentWeightsFollowTheBm25TermFrequencyFormula()
    {
        // zebra ×2, graze, savanna, run: 5 tokens once "on" and "the" are dropped.
        var vector = Bm25SparseEncoder.Default.EncodeDocument("zebras graze on the savanna; zebras run");
        double norm = 1.2 * (1 - 0.75 + (0.75 * 5 / 256.0));
        var expected = new Dictionary<uint, double>
        {
            [Bm25SparseEncoder.TokenId("zebra")] = 2 * 2.2 / (2 + norm), // 1.898534
            [Bm25SparseEncoder.TokenId("graze")] = 2.2 / (1 + norm), // 1.669730
            [Bm25SparseEncoder.TokenId("savanna")] = 2.2 / (1 + norm),
            [Bm25SparseEncoder.TokenId("run")] = 2.2 / (1 + norm),
        };
        Assert.Equal(expected.Keys.Order(), vector.Indices);
        for (int i = 0; i < vector.Indices.Length; i++)
        {
            Assert.Equal(expected[vector.Indices[i]], vector.Values[i], 5);
        }

        Assert.Equal(1.898534, expected[Bm25SparseEncoder.TokenId("zebra")], 5);
        Assert.Equal(1.669730, expected[Bm25SparseEncoder.TokenId("run")], 5);

        // Other parameters: k1 = 2, b = 0 (no length normalization): tf·3 / (tf + 2).
        var flat = new Bm25SparseEncoder(k1: 2, b: 0).EncodeDocument("apple apple apple pear");
        Assert.Equal(9.0 / 5, flat.Values[Array.IndexOf(flat.Indices, Bm25SparseEncoder.TokenId("appl"))], 5);
        Assert.Equal(1.0, flat.Values[Array.IndexOf(flat.Indices, Bm25SparseEncoder.TokenId("pear"))], 5);
    }

    [Fact]
    public void QueryVectorsWeighEachDistinctStemOnce()
    {
        var query = Bm25SparseEncoder.Default.EncodeQuery("Zebras and the zebra run, running");
        uint[] expected = [.. new[] { "zebra", "run" }.Select(Bm25SparseEncoder.TokenId).Order()];
        Assert.Equal(expected, query.Indices);
        Assert.All(query.Values, v => Assert.Equal(1f, v));
        Assert.True(Bm25SparseEncoder.Default.EncodeQuery("the and of").IsEmpty);
        Assert.True(Bm25SparseEncoder.Default.EncodeDocument(string.Empty).IsEmpty);
    }
}
