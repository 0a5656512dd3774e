using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using System.Text.Unicode;
using T5Gemma2.Rag.Indexer.Documents;

namespace T5Gemma2.Rag.Indexer.Loading;

/// <summary>
/// Turns a text file's bytes into a string the way every text loader needs it: the encoding from the byte order mark
/// (UTF-8 without one), invalid sequences replaced by U+FFFD and counted so damage is reported rather than silently
/// indexed, '\r\n' and '\r' normalised to '\n', and binary files refused before they fill an index with noise.
/// </summary>
public static class TextDecoder
{
    /// <summary>How much of a file's start is searched for NUL bytes, the sign of a binary file.</summary>
    public const int BinaryProbeBytes = 8192;

    /// <summary>The reason given for a file that holds NUL bytes without a UTF-16 byte order mark.</summary>
    public const string BinaryContentReason = "binary content (NUL bytes) in a text file; expected text";

    /// <summary>Decodes <paramref name="bytes"/>, read from <paramref name="path"/> (named in the exception).</summary>
    /// <exception cref="DocumentLoadException">The content is binary: NUL bytes in the first 8 KiB and no UTF-16 byte order mark.</exception>
    public static DecodedText Decode(ReadOnlySpan<byte> bytes, string path)
    {
        DecodedText decoded;
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]))
        {
            decoded = DecodeUtf16(bytes[2..], bigEndian: false);
        }
        else if (bytes.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]))
        {
            decoded = DecodeUtf16(bytes[2..], bigEndian: true);
        }
        else
        {
            if (bytes[..Math.Min(bytes.Length, BinaryProbeBytes)].Contains((byte)0))
            {
                throw new DocumentLoadException(path, BinaryContentReason);
            }

            decoded = DecodeUtf8(bytes.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? bytes[3..] : bytes);
        }

        return decoded with { Text = NormalizeLineEnds(decoded.Text) };
    }

    /// <summary>Reads and decodes a whole file; I/O failures become <see cref="DocumentLoadException"/>s.</summary>
    public static Task<DecodedText> ReadFileAsync(string path, CancellationToken cancellationToken = default) =>
        ReadFileAsync(new DocumentFile(Path.GetFullPath(path), Path.GetFileName(path)), cancellationToken);

    /// <summary>Reads and decodes a found file, within its <see cref="DocumentFile.Roots"/>.</summary>
    internal static async Task<DecodedText> ReadFileAsync(DocumentFile file, CancellationToken cancellationToken = default)
    {
        byte[] bytes = await LoaderIO.ReadAllBytesAsync(file, cancellationToken).ConfigureAwait(false);
        return Decode(bytes, file.Source);
    }

    /// <summary>Replaces "\r\n" and lone '\r' with '\n'; returns the same string when there is nothing to replace.</summary>
    public static string NormalizeLineEnds(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Contains('\r', StringComparison.Ordinal) ? text.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n') : text;
    }

    /// <summary>Decodes UTF-8, replacing each maximal invalid subsequence with one U+FFFD as the Unicode standard recommends.</summary>
    internal static DecodedText DecodeUtf8(ReadOnlySpan<byte> bytes)
    {
        if (Utf8.IsValid(bytes))
        {
            return new DecodedText(Encoding.UTF8.GetString(bytes), 0);
        }

        // Every valid sequence yields no more UTF-16 units than it has bytes, and a replaced one yields one unit for at least one byte.
        char[] buffer = ArrayPool<char>.Shared.Rent(Math.Max(1, bytes.Length));
        try
        {
            int written = 0;
            int replaced = 0;
            while (true)
            {
                var status = Utf8.ToUtf16(bytes, buffer.AsSpan(written), out int read, out int produced, replaceInvalidSequences: false, isFinalBlock: true);
                written += produced;
                bytes = bytes[read..];
                if (status == OperationStatus.Done || bytes.IsEmpty)
                {
                    break;
                }

                Rune.DecodeFromUtf8(bytes, out _, out int invalid);
                buffer[written++] = '\uFFFD';
                replaced++;
                bytes = bytes[Math.Max(1, invalid)..];
            }

            return new DecodedText(new string(buffer, 0, written), replaced);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(buffer);
        }
    }

    private static DecodedText DecodeUtf16(ReadOnlySpan<byte> bytes, bool bigEndian)
    {
        int units = bytes.Length / 2;
        char[] buffer = ArrayPool<char>.Shared.Rent(units + 1);
        try
        {
            int written = 0;
            int replaced = 0;
            for (int i = 0; i < units; i++)
            {
                char c = Read(bytes, i, bigEndian);
                if (char.IsHighSurrogate(c) && i + 1 < units && char.IsLowSurrogate(Read(bytes, i + 1, bigEndian)))
                {
                    buffer[written++] = c;
                    buffer[written++] = Read(bytes, ++i, bigEndian);
                }
                else if (char.IsSurrogate(c))
                {
                    buffer[written++] = '\uFFFD';
                    replaced++;
                }
                else
                {
                    buffer[written++] = c;
                }
            }

            if (bytes.Length % 2 != 0)
            {
                buffer[written++] = '\uFFFD'; // a final odd byte is half a code unit
                replaced++;
            }

            return new DecodedText(new string(buffer, 0, written), replaced);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(buffer);
        }

        static char Read(ReadOnlySpan<byte> bytes, int unit, bool bigEndian)
        {
            var pair = bytes.Slice(unit * 2, 2);
            return (char)(bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(pair) : BinaryPrimitives.ReadUInt16LittleEndian(pair));
        }
    }
}
