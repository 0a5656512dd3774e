namespace T5Gemma2.Rag.Encoder.Images;

/// <summary>
/// The colour PIL gives a GIF's transparent pixels. PIL reads a GIF's first frame as a palette image and
/// <c>convert("RGB")</c> takes every index through the palette, the transparent one included; Skia decodes those
/// pixels as (0, 0, 0, 0) and gives no access to the palette. So the first frame's transparent index and its colour
/// are read from the file's blocks here (the header, the colour tables and the graphic control extension only).
/// </summary>
internal static class GifTransparency
{
    private const byte ExtensionIntroducer = 0x21;
    private const byte GraphicControlLabel = 0xF9;
    private const byte ImageSeparator = 0x2C;

    /// <summary>The palette colour of the first frame's transparent index, or null when it has none (or the blocks are unreadable).</summary>
    public static (byte Red, byte Green, byte Blue)? FirstFrameColour(ReadOnlySpan<byte> gif)
    {
        // Header (6) and logical screen descriptor (7); its packed byte says whether a global colour table follows.
        if (gif.Length < 13)
        {
            return null;
        }

        int globalTable = 13, globalLength = TableLength(gif[10]);
        int position = globalTable + globalLength;
        int? transparentIndex = null;
        while (position < gif.Length)
        {
            if (gif[position] == ExtensionIntroducer && position + 1 < gif.Length)
            {
                byte label = gif[position + 1];
                if (label == GraphicControlLabel && position + 6 < gif.Length && gif[position + 2] == 4)
                {
                    transparentIndex = (gif[position + 3] & 1) != 0 ? gif[position + 6] : null;
                }

                // Skip the extension's sub-blocks (a length byte each, ending with a zero length).
                position += 2;
                while (position < gif.Length && gif[position] != 0)
                {
                    position += gif[position] + 1;
                }

                position++;
            }
            else if (gif[position] == ImageSeparator && position + 9 < gif.Length)
            {
                // The first frame: its own colour table, when it has one, takes the global table's place.
                int localLength = TableLength(gif[position + 9]);
                var (table, length) = localLength > 0 ? (position + 10, localLength) : (globalTable, globalLength);
                if (transparentIndex is not int index || (3 * index) + 2 >= length || table + length > gif.Length)
                {
                    return null;
                }

                int at = table + (3 * index);
                return (gif[at], gif[at + 1], gif[at + 2]);
            }
            else
            {
                return null;
            }
        }

        return null;
    }

    /// <summary>Bytes of the colour table a packed field announces: 3 × 2^(n + 1) when its top bit is set, else none.</summary>
    private static int TableLength(byte packed) => (packed & 0x80) != 0 ? 3 * (1 << ((packed & 0x07) + 1)) : 0;
}
