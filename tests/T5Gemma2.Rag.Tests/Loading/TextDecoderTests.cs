using System.Text;
using T5Gemma2.Rag.Indexer.Documents;
using T5Gemma2.Rag.Indexer.Loading;

namespace T5Gemma2.Rag.Tests.Loading;

public sealed class TextDecoderTests
{
    [Fact]
    public void Utf8ByteOrderMarkIsDroppedAndLineEndsBecomeNewlines()
    {
        byte[] bytes = [0xEF, 0xBB, 0xBF, .. "one\r\ntwo\rthree\n\r\nfour"u8];

        var decoded = TextDecoder.Decode(bytes, "x.txt");

        Assert.Equal("one\ntwo\nthree\n\nfour", decoded.Text);
        Assert.Equal(0, decoded.ReplacedCharacters);
    }

    [Fact]
    public void WithoutByteOrderMarkTheTextIsUtf8()
    {
        var decoded = TextDecoder.Decode("résumé 東京 𠀀"u8, "x.txt");

        Assert.Equal("résumé 東京 𠀀", decoded.Text);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Utf16WithByteOrderMarkIsDecodedDespiteItsNulBytes(bool bigEndian)
    {
        var encoding = bigEndian ? Encoding.BigEndianUnicode : Encoding.Unicode;
        byte[] bytes = [.. encoding.GetPreamble(), .. encoding.GetBytes("héllo\r\nwörld 𠀀")];

        var decoded = TextDecoder.Decode(bytes, "x.txt");

        Assert.Equal("héllo\nwörld 𠀀", decoded.Text);
        Assert.Equal(0, decoded.ReplacedCharacters);
    }

    [Fact]
    public void InvalidUtf8SequencesAreReplacedAndCounted()
    {
        // A stray continuation-range byte, a lead byte cut short by a space, and a three-byte sequence missing its last byte.
        byte[] bytes = [.. "ok "u8, 0xFF, .. " mid "u8, 0xC3, .. " x "u8, 0xE2, 0x82, .. "end"u8];

        var decoded = TextDecoder.Decode(bytes, "x.txt");

        Assert.Equal("ok \uFFFD mid \uFFFD x \uFFFDend", decoded.Text);
        Assert.Equal(3, decoded.ReplacedCharacters);
        Assert.Equal(Encoding.UTF8.GetString(bytes), decoded.Text); // the same replacements as .NET's own decoder
    }

    [Fact]
    public void UnpairedSurrogatesAndAnOddByteInUtf16AreCounted()
    {
        byte[] bytes = [0xFF, 0xFE, 0x61, 0x00, 0x00, 0xD8, 0x62, 0x00, 0x00, 0xDC, 0x63];

        var decoded = TextDecoder.Decode(bytes, "x.txt");

        Assert.Equal("a\uFFFDb\uFFFD\uFFFD", decoded.Text);
        Assert.Equal(3, decoded.ReplacedCharacters);
    }

    [Fact]
    public void NulBytesNearTheStartMeanBinaryContent()
    {
        byte[] bytes = [0x89, .. "PNG\r\n"u8, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D];

        var ex = Assert.Throws<DocumentLoadException>(() => TextDecoder.Decode(bytes, "/data/image.txt"));

        Assert.Equal("/data/image.txt", ex.Path);
        Assert.Equal(TextDecoder.BinaryContentReason, ex.Reason);
        Assert.Equal("/data/image.txt: binary content (NUL bytes) in a text file; expected text", ex.Message);
    }

    [Fact]
    public void OnlyTheFirst8KiBAreProbedForNulBytes()
    {
        byte[] late = [.. Encoding.ASCII.GetBytes(new string('a', TextDecoder.BinaryProbeBytes)), 0x00, .. "z"u8];
        byte[] early = [.. Encoding.ASCII.GetBytes(new string('a', TextDecoder.BinaryProbeBytes - 1)), 0x00, .. "z"u8];

        Assert.Equal(TextDecoder.BinaryProbeBytes + 2, TextDecoder.Decode(late, "late.txt").Text.Length);
        Assert.Throws<DocumentLoadException>(() => TextDecoder.Decode(early, "early.txt"));
    }

    [Fact]
    public void EmptyInputIsEmptyText()
    {
        Assert.Equal(new DecodedText(string.Empty, 0), TextDecoder.Decode([], "empty.txt"));
        Assert.Equal(new DecodedText(string.Empty, 0), TextDecoder.Decode([0xEF, 0xBB, 0xBF], "bom-only.txt"));
    }
}
