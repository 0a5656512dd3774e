using T5Gemma2.Rag.Encoder.Checkpoints;
using T5Gemma2.Rag.Encoder.Conversion;

namespace T5Gemma2.Rag.Tests.Infrastructure;

/// <summary>A random checkpoint of the tiny preset (seed 20251214) and its fp32 conversion, made once per test run.</summary>
public sealed class SharedTinyT5Gemma2 : IDisposable
{
    private readonly TempDirectory _temp = new();

    public SharedTinyT5Gemma2()
    {
        this.CheckpointDirectory = this._temp.Combine("hf");
        this.ConvertedDirectory = this._temp.Combine("onnx");
        RandomCheckpoint.Create(T5Gemma2Preset.Tiny, Seed, this.CheckpointDirectory, TestAssets.GemmaTokenizerDirectory);
        this.Conversion = CheckpointConverter.Convert(this.CheckpointDirectory, this.ConvertedDirectory);
    }

    public const int Seed = 20251214;

    public string CheckpointDirectory { get; }

    public string ConvertedDirectory { get; }

    public ConversionResult Conversion { get; }

    public void Dispose() => this._temp.Dispose();
}
