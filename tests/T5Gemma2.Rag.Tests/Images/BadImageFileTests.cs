using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using T5Gemma2.Rag.Encoder.Images;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Images;

/// <summary>
/// Every way an image file can be bad gives one <see cref="ImageFileException"/> line naming the file (exit 3 in the
/// CLI), quickly: nothing hangs, crashes or allocates what a header claims.
/// </summary>
public sealed class BadImageFileTests : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly ImagePreprocessor _preprocessor = ImagePreprocessor.Create(new ImagePreprocessorOptions(28));

    public void Dispose() => this._temp.Dispose();

    [Fact]
    public void AZeroByteFile()
    {
        string path = this.WriteBytes("empty.png", []);
        Assert.Contains("is empty", this.Refused(path));
    }

    [Fact]
    public void ATextFileNamedPng()
    {
        string path = this.WriteBytes("notes.png", "just some text, not an image\n"u8.ToArray());
        Assert.Contains("is not a PNG, JPEG, WebP, GIF or BMP image", this.Refused(path));
    }

    [Theory]
    [InlineData("photo-640x480.png")]
    [InlineData("photo-2000x1500.jpg")]
    [InlineData("photo-512x384.webp")]
    [InlineData("animated-200x150.gif")]
    [InlineData("diagram-250x180.bmp")]
    public void ATruncatedFile(string file)
    {
        // Cut inside the first frame (the GIF's first of three frames ends past a fifth of the file).
        byte[] whole = File.ReadAllBytes(TestImages.PathOf(file));
        string path = this.WriteBytes("cut-" + file, whole[..(whole.Length / 5)]);
        string message = this.Refused(path);
        Assert.True(message.Contains("truncated", StringComparison.Ordinal), message);
    }

    [Fact]
    public void APngWithCorruptPixelData()
    {
        // The header intact, the compressed pixel data overwritten after it: the decoder's own check fails.
        byte[] bytes = File.ReadAllBytes(TestImages.PathOf("photo-640x480.png"));
        for (int i = 200; i < bytes.Length - 100; i += 7)
        {
            bytes[i] ^= 0x5A;
        }

        string message = this.Refused(this.WriteBytes("corrupt.png", bytes));
        Assert.True(message.Contains("corrupt", StringComparison.Ordinal) || message.Contains("truncated", StringComparison.Ordinal), message);
    }

    [Fact]
    public void APngHeaderClaiming100000By100000PixelsIsRefusedBeforeDecoding()
    {
        // A 70-byte file whose IHDR says 10 gigapixels (40 GB as RGBA): refused from the header, with nothing allocated.
        string path = this.WriteBytes("bomb.png", Png(100_000, 100_000));
        long before = GC.GetAllocatedBytesForCurrentThread();
        string message = this.Refused(path);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains("100000 × 100000 = 10,000,000,000 pixels; the limit is 64,000,000", message);
        Assert.True(allocated < 1 << 20, $"allocated {allocated:N0} bytes to refuse a bomb");
    }

    [Fact]
    public void AnImageOverTheDecodedPixelLimit()
    {
        var small = ImagePreprocessor.Create(new ImagePreprocessorOptions(28) { MaxDecodedPixels = 640 * 480 - 1 });
        var error = Assert.Throws<ImageFileException>(() => small.Load(TestImages.PathOf("photo-640x480.png"), TestContext.Current.CancellationToken));
        Assert.Contains("640 × 480 = 307,200 pixels; the limit is 307,199", error.Message);
    }

    [Fact]
    public void AFileOverTheSizeLimit()
    {
        string path = TestImages.PathOf("photo-2000x1500.jpg");
        long length = new FileInfo(path).Length;
        var limited = ImagePreprocessor.Create(new ImagePreprocessorOptions(28) { MaxFileBytes = length - 1 });
        var error = Assert.Throws<ImageFileException>(() => limited.Load(path, TestContext.Current.CancellationToken));
        Assert.StartsWith(path + ": ", error.Message);
        Assert.Contains($"is {length:N0} bytes; the limit is {length - 1:N0}", error.Message);
        Assert.Throws<ImageFileException>(() => limited.Decode(File.ReadAllBytes(path), "in memory"));
    }

    [Fact]
    public void AMissingFileAndADirectory()
    {
        Assert.Contains("does not exist", this.Refused(this._temp.Combine("absent.png")));
        Directory.CreateDirectory(this._temp.Combine("folder.png"));
        Assert.Contains("is a directory", this.Refused(this._temp.Combine("folder.png")));
    }

    [Fact]
    public void BytesInMemoryAreNamedByTheirSourceName()
    {
        var error = Assert.Throws<ImageFileException>(() => this._preprocessor.Decode("GIF89a"u8, "attachment 3"));
        Assert.StartsWith("attachment 3: ", error.Message);
        Assert.Equal(FailureKind.InputFile, error.Kind);
    }

    /// <summary>Loads <paramref name="path"/>, expecting one ImageFileException line that starts with the path, within 2 s.</summary>
    private string Refused(string path)
    {
        var clock = Stopwatch.StartNew();
        var error = Assert.Throws<ImageFileException>(() => this._preprocessor.Load(path, TestContext.Current.CancellationToken));
        clock.Stop();
        Assert.StartsWith(path + ": ", error.Message);
        Assert.Equal(path, error.FilePath);
        Assert.DoesNotContain('\n', error.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed.TotalMilliseconds:F0} ms to refuse {path}");
        return error.Message;
    }

    private string WriteBytes(string name, byte[] bytes)
    {
        string path = this._temp.Combine(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>A valid PNG stream (signature, IHDR, one IDAT of a single zero row, IEND) whose header claims the given size.</summary>
    private static byte[] Png(int width, int height)
    {
        using var stream = new MemoryStream();
        stream.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8; // bit depth
        header[9] = 2; // colour type: RGB
        Chunk(stream, "IHDR", header);
        using (var compressed = new MemoryStream())
        {
            using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
            {
                zlib.Write(new byte[1 + 30]);
            }

            Chunk(stream, "IDAT", compressed.ToArray());
        }

        Chunk(stream, "IEND", []);
        return stream.ToArray();
    }

    private static void Chunk(Stream stream, string type, byte[] data)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        stream.Write(length);
        byte[] typed = [.. System.Text.Encoding.ASCII.GetBytes(type), .. data];
        stream.Write(typed);
        Span<byte> crc = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32(typed));
        stream.Write(crc);
    }

    /// <summary>The PNG chunk CRC (ISO 3309, reflected polynomial 0xEDB88320), bit by bit.</summary>
    private static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in bytes)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
            }
        }

        return ~crc;
    }
}
