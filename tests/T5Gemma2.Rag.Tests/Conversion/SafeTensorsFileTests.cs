using System.Text;
using T5Gemma2.Rag.Encoder;
using T5Gemma2.Rag.Encoder.Checkpoints;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Conversion;

/// <summary>The safetensors reader on files written byte by byte here, so the format is checked independently of our writer.</summary>
public sealed class SafeTensorsFileTests
{
    [Fact]
    public void Bf16F16AndF32DecodeToTheirValues()
    {
        using var temp = new TempDirectory();
        // bf16 0x3F80 = 1.0, 0xC000 = -2.0; f16 0x3C00 = 1.0, 0xC500 = -5.0; f32 0.5.
        byte[] data = [0x80, 0x3F, 0x00, 0xC0, 0x00, 0x3C, 0x00, 0xC5, 0x00, 0x00, 0x00, 0x3F];
        string path = Write(temp, """{"b":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]},"h":{"dtype":"F16","shape":[2],"data_offsets":[4,8]},"f":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}""", data);

        using var sut = SafeTensorsFile.Open(path);
        float[] b = new float[2], h = new float[2], f = new float[1];
        sut.ReadFloat32(sut.Tensors["b"], b);
        sut.ReadFloat32(sut.Tensors["h"], h);
        sut.ReadFloat32(sut.Tensors["f"], f);

        Assert.Equal([1f, -2f], b);
        Assert.Equal([1f, -5f], h);
        Assert.Equal([0.5f], f);
    }

    [Theory]
    [InlineData("""{"t":{"dtype":"F32","shape":[-1],"data_offsets":[4,0]}}""", "non-negative")]
    [InlineData("""{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}""", "expected 8 bytes")]
    [InlineData("""{"t":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}}""", "truncated")]
    [InlineData("""{"t":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}}""", "dtype Q4")]
    [InlineData("""{"t":{"dtype":"F32","shape":"x"}}""", "unreadable header")]
    public void BrokenHeadersAreNamed(string header, string expected)
    {
        using var temp = new TempDirectory();
        string path = Write(temp, header, new byte[16]);

        var error = Assert.Throws<ModelFileException>(() => SafeTensorsFile.Open(path));

        Assert.Equal(path, error.FilePath);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void IndexWithABadShardNameIsRefused()
    {
        using var temp = new TempDirectory();
        string index = temp.Write("model.safetensors.index.json", """{"weight_map": {"a": "../elsewhere.safetensors", "b": 3}}""");

        var error = Assert.Throws<ModelFileException>(() => SafeTensorsCheckpoint.Open(temp.Path));

        Assert.Equal(index, error.FilePath);
    }

    private static string Write(TempDirectory temp, string header, byte[] data)
    {
        byte[] json = Encoding.UTF8.GetBytes(header);
        string path = temp.Combine("t.safetensors");
        File.WriteAllBytes(path, [.. BitConverter.GetBytes((long)json.Length), .. json, .. data]);
        return path;
    }
}
