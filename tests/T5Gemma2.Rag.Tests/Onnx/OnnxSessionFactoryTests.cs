using System.Text.RegularExpressions;
using T5Gemma2.Rag.Encoder.Onnx;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Onnx;

/// <summary>
/// Every ONNX Runtime session runs on an explicit thread count: ONNX Runtime's own default (0) used one of this
/// machine's two cores. The factory's options carry the count, and no session in the sources is made around it.
/// </summary>
public sealed class OnnxSessionFactoryTests
{
    [Fact]
    public void SessionsRunOnEveryCoreUnlessToldOtherwise()
    {
        using var defaults = OnnxSessionFactory.CreateSessionOptions(new OnnxSessionOptions());
        using var three = OnnxSessionFactory.CreateSessionOptions(new OnnxSessionOptions { IntraOpThreads = 3 });

        Assert.Equal(Environment.ProcessorCount, defaults.IntraOpNumThreads);
        Assert.Equal(3, three.IntraOpNumThreads);
        Assert.Equal(1, three.InterOpNumThreads);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-2)]
    public void AThreadCountBelowOneIsRefused(int threads)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new OnnxSessionOptions { IntraOpThreads = threads });

        Assert.Equal("IntraOpThreads", error.ParamName);
    }

    [Fact]
    public void ChangingOneSettingKeepsTheOthers()
    {
        var given = new OnnxSessionOptions { IntraOpThreads = 5, EnableMemoryArena = false, Device = ExecutionDevice.Cuda, DeviceId = 1 };

        var profiled = given.WithProfile("/tmp/profile");

        Assert.Equal((5, false, ExecutionDevice.Cuda, 1, "/tmp/profile"), (profiled.IntraOpThreads, profiled.EnableMemoryArena, profiled.Device, profiled.DeviceId, profiled.ProfileFilePrefix));
    }

    [Fact]
    public void NoSourceFileCreatesASessionAroundTheFactory()
    {
        string sources = Path.Combine(TestAssets.RepositoryRoot, "src");
        var offenders = Directory.EnumerateFiles(sources, "*.cs", SearchOption.AllDirectories)
            .Where(path => !path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Where(path => Path.GetFileName(path) != "OnnxSessionFactory.cs")
            .Where(path => Regex.IsMatch(File.ReadAllText(path), @"new\s+(InferenceSession|SessionOptions)\s*\("))
            .ToList();

        Assert.True(Directory.EnumerateFiles(sources, "OnnxSessionFactory.cs", SearchOption.AllDirectories).Any(), $"{sources}: expected the sources of the project");
        Assert.Empty(offenders);
    }
}
