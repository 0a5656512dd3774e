using System.Buffers.Binary;
using System.Numerics;

namespace T5Gemma2.Rag.Indexer.Stores.Qdrant;

/// <summary>
/// MurmurHash3_x86_32 (Austin Appleby's reference): the hash fastembed's BM25 (Python mmh3) and Qdrant's server-side
/// BM25 turn tokens into sparse-vector indices with, so ours must give the same bits.
/// </summary>
public static class MurmurHash3
{
    private const uint C1 = 0xcc9e2d51;
    private const uint C2 = 0x1b873593;

    /// <summary>The 32-bit hash of <paramref name="data"/> (unsigned; mmh3.hash returns the same bits as a signed int).</summary>
    public static uint X86_32(ReadOnlySpan<byte> data, uint seed = 0)
    {
        uint h = seed;
        int blocks = data.Length / 4;
        for (int i = 0; i < blocks; i++)
        {
            uint k = BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(i * 4, 4));
            k *= C1;
            k = BitOperations.RotateLeft(k, 15);
            k *= C2;
            h ^= k;
            h = BitOperations.RotateLeft(h, 13);
            h = (h * 5) + 0xe6546b64;
        }

        var tail = data[(blocks * 4)..];
        uint k1 = 0;
        switch (tail.Length)
        {
            case 3:
                k1 ^= (uint)tail[2] << 16;
                goto case 2;
            case 2:
                k1 ^= (uint)tail[1] << 8;
                goto case 1;
            case 1:
                k1 ^= tail[0];
                k1 *= C1;
                k1 = BitOperations.RotateLeft(k1, 15);
                k1 *= C2;
                h ^= k1;
                break;
        }

        h ^= (uint)data.Length;
        h ^= h >> 16;
        h *= 0x85ebca6b;
        h ^= h >> 13;
        h *= 0xc2b2ae35;
        h ^= h >> 16;
        return h;
    }
}
