namespace T5Gemma2.Rag.Encoder.Conversion;

/// <summary>
/// A weight [rows, columns] in ONNX Runtime's MatMulNBits layout: per row, blocks of <see cref="BlockSize"/> inputs
/// (the last one padded with zeros), each block's codes q (<see cref="Bits"/> wide, unsigned, low nibble first for 4),
/// one fp32 scale s and an integer zero point z (packed like the codes, per row), read back as s · (q − z).
/// </summary>
/// <param name="Data">[rows, blocks, blockSize · bits / 8] bytes.</param>
/// <param name="Scales">[rows · blocks].</param>
/// <param name="ZeroPoints">[rows · zero-point bytes per row]: one byte per block for 8 bits, two blocks a byte for 4.</param>
internal sealed record QuantizedWeight(byte[] Data, float[] Scales, byte[] ZeroPoints, int Bits, int BlockSize)
{
    public static int BlocksPerRow(int columns, int blockSize) => (columns + blockSize - 1) / blockSize;

    public static int BlobBytes(int bits, int blockSize) => blockSize * bits / 8;

    public static int ZeroPointBytesPerRow(int bits, int blocks) => bits == 8 ? blocks : (blocks + 1) / 2;
}
