using System.Diagnostics;
using Microsoft.Extensions.AI;
using T5Gemma2.Rag.Cli;
using T5Gemma2.Rag.Encoder;
using T5Gemma2.Rag.Encoder.Generation;
using T5Gemma2.Rag.Tests.Cli;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Generation;

/// <summary>Sampling, beams, streaming, stop sequences, IChatClient, the CLI and bad input, on the tiny preset.</summary>
public sealed class GenerationBehaviourTests(SharedTinyT5Gemma2 tiny) : IDisposable
{
    private const string Input = "The encoder reads this; the decoder answers.";

    private readonly Seq2SeqGenerator _sut = Seq2SeqGenerator.Create(tiny.ConvertedDirectory);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public void Dispose() => this._sut.Dispose();

    [Fact]
    public async Task SamplingWithASeedIsReproducible()
    {
        var options = new GenerationOptions { MaxNewTokens = 16, Sample = true, Temperature = 1.5f, TopP = 0.95f, TopK = 50, Seed = 7 };

        var first = await this._sut.GenerateAsync(Input, options, Token);
        var again = await this._sut.GenerateAsync(Input, options, Token);
        var other = await this._sut.GenerateAsync(Input, new GenerationOptions { MaxNewTokens = 16, Sample = true, Temperature = 1.5f, TopP = 0.95f, TopK = 50, Seed = 8 }, Token);
        var greedy = await this._sut.GenerateAsync(Input, new GenerationOptions { MaxNewTokens = 16 }, Token);

        Assert.Equal(first.TokenIds, again.TokenIds);
        Assert.NotEqual(first.TokenIds, other.TokenIds);
        Assert.NotEqual(first.TokenIds, greedy.TokenIds);
    }

    [Fact]
    public async Task OneBeamIsGreedyAndMoreBeamsFindAtLeastAsLikelyAnAnswer()
    {
        var greedy = await this._sut.GenerateAsync(Input, new GenerationOptions { MaxNewTokens = 8 }, Token);
        var oneBeam = await this._sut.GenerateAsync(Input, new GenerationOptions { MaxNewTokens = 8, NumBeams = 1 }, Token);
        var beams = await this._sut.GenerateAsync(Input, new GenerationOptions { MaxNewTokens = 8, NumBeams = 4 }, Token);

        Assert.Equal(greedy.TokenIds, oneBeam.TokenIds);
        Assert.True(this.LogProbability(beams.TokenIds) >= this.LogProbability(greedy.TokenIds) - 1e-3, "beam search found a less likely answer than greedy");
    }

    [Fact]
    public async Task StreamedDeltasAddUpToTheAnswer()
    {
        var options = new GenerationOptions { MaxNewTokens = 24 };
        var whole = await this._sut.GenerateAsync(Input, options, Token);

        var deltas = new List<string>();
        await foreach (string delta in this._sut.GenerateStreamingAsync(Input, options, Token))
        {
            deltas.Add(delta);
        }

        Assert.Equal(whole.Text, string.Concat(deltas));
        Assert.Equal(this._sut.Tokenizer.Decode(whole.TokenIds, skipSpecialTokens: true), whole.Text);
        Assert.True(deltas.Count > 1);
    }

    [Fact]
    public async Task StreamedUpdatesEndWithTheWholeResult()
    {
        var options = new GenerationOptions { MaxNewTokens = 24 };
        var whole = await this._sut.GenerateAsync(Input, options, Token);

        var updates = await this._sut.GenerateUpdatesAsync(this._sut.CreateInput(Input, []), options, Token).ToListAsync(Token);

        Assert.Equal(whole.Text, string.Concat(updates.Select(u => u.Delta)));
        var last = updates[^1];
        Assert.Null(last.Delta);
        Assert.Equal(whole.TokenIds, last.Result!.TokenIds);
        Assert.Equal((whole.Text, whole.FinishReason, whole.InputTokenCount), (last.Result.Text, last.Result.FinishReason, last.Result.InputTokenCount));
        Assert.All(updates[..^1], u => Assert.Null(u.Result));
    }

    [Fact]
    public async Task LeavingAStreamEarlyStopsTheGeneration()
    {
        var stopwatch = Stopwatch.StartNew();
        int seen = 0;
        await foreach (string _ in this._sut.GenerateStreamingAsync(Input, new GenerationOptions { MaxNewTokens = 20_000, MinNewTokens = 20_000 }, Token))
        {
            if (++seen == 2)
            {
                break;
            }
        }

        // Leaving the loop disposes the stream, which waits for the worker: it must stop, not run 20,000 steps.
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(15), $"took {stopwatch.Elapsed.TotalSeconds:F1} s");
    }

    [Fact]
    public async Task StopSequencesEndTheAnswerAndNeverStream()
    {
        var free = await this._sut.GenerateAsync(Input, new GenerationOptions { MaxNewTokens = 24 }, Token);
        string stop = free.Text.Substring(free.Text.Length / 2, Math.Min(4, free.Text.Length - free.Text.Length / 2));
        var options = new GenerationOptions { MaxNewTokens = 24, StopSequences = [stop] };

        var stopped = await this._sut.GenerateAsync(Input, options, Token);
        string streamed = "";
        await foreach (string delta in this._sut.GenerateStreamingAsync(Input, options, Token))
        {
            streamed += delta;
        }

        Assert.Equal(FinishReason.StopSequence, stopped.FinishReason);
        Assert.Equal(free.Text[..free.Text.IndexOf(stop, StringComparison.Ordinal)], stopped.Text);
        Assert.Equal(stopped.Text, streamed);
    }

    [Fact]
    public async Task WorksAsAnIChatClient()
    {
        IChatClient client = new Seq2SeqChatClient(this._sut);
        var direct = await this._sut.GenerateAsync(Input, new GenerationOptions { MaxNewTokens = 10 }, Token);

        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, Input)], new ChatOptions { MaxOutputTokens = 10 }, Token);
        string streamed = "";
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, Input)], new ChatOptions { MaxOutputTokens = 10 }, Token))
        {
            streamed += update.Text;
            updates.Add(update);
        }

        Assert.Equal(direct.Text, response.Text);
        Assert.Equal(direct.Text, streamed);

        // The stream ends as Microsoft.Extensions.AI's clients end theirs: the finish reason and the usage, no text.
        Assert.Equal(ChatFinishReason.Length, updates[^1].FinishReason);
        var usage = Assert.IsType<UsageContent>(Assert.Single(updates[^1].Contents)).Details;
        Assert.Equal((direct.InputTokenCount, 10L), (usage.InputTokenCount, usage.OutputTokenCount));
        Assert.Equal(string.Empty, updates[^1].Text);
        Assert.Equal(ChatFinishReason.Length, response.FinishReason);
        Assert.Equal(10, response.Usage!.OutputTokenCount);
        Assert.NotNull(client.GetService<ChatClientMetadata>());
    }

    [Fact]
    public async Task GenerateCommandStreamsToStdout()
    {
        var direct = await this._sut.GenerateAsync(Input, new GenerationOptions { MaxNewTokens = 6 }, Token);

        var (code, output, _) = await CliRunner.RunAsync("generate", "--model", tiny.ConvertedDirectory, "--max-new-tokens", "6", Input);

        Assert.Equal(ExitCodes.Success, code);
        Assert.Equal(direct.Text, output.TrimEnd('\n'));
    }

    [Theory]
    [InlineData(0, 1f)]
    [InlineData(5, 1.5f)]
    [InlineData(5, 0f)]
    public async Task UnusableOptionsAreRefused(int maxNewTokens, float topP)
    {
        var options = new GenerationOptions { MaxNewTokens = maxNewTokens, TopP = topP };

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => this._sut.GenerateAsync(Input, options, Token));
    }

    [Fact]
    public async Task InputsLongerThanTheModelsPositionsAreRefused()
    {
        string huge = string.Join(' ', Enumerable.Repeat("word", 600)); // the tiny preset has 512 positions

        var error = await Assert.ThrowsAsync<ArgumentException>(() => this._sut.GenerateAsync(huge, cancellationToken: Token));

        Assert.Contains("512", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnEncoderOnlyDirectoryCannotGenerate()
    {
        using var temp = new TempDirectory();
        string copy = temp.Combine("encoder-only");
        Directory.CreateDirectory(Path.Combine(copy, "onnx"));
        ModelDirectoryCopy.TopLevelFiles(tiny.ConvertedDirectory, copy);

        File.Copy(Path.Combine(tiny.ConvertedDirectory, "onnx", "encoder_model.onnx"), Path.Combine(copy, "onnx", "encoder_model.onnx"));

        var error = Assert.Throws<ModelFileException>(() => Seq2SeqGenerator.Create(copy));

        Assert.Contains("decoder", error.Message, StringComparison.Ordinal);
    }

    private double LogProbability(IReadOnlyList<int> tokens)
    {
        int[] input = [.. this._sut.Tokenizer.EncodeToIds(Input, addBeginningOfSentence: true, addEndOfSentence: false)];
        int[] decoderIds = [2, .. tokens];
        float[] logits = this._sut.Logits(input, decoderIds);
        int vocabulary = logits.Length / decoderIds.Length;
        double total = 0;
        for (int t = 0; t < tokens.Count; t++)
        {
            var row = logits.AsSpan(t * vocabulary, vocabulary);
            double max = double.NegativeInfinity;
            foreach (float v in row)
            {
                max = Math.Max(max, v);
            }

            double sum = 0;
            foreach (float v in row)
            {
                sum += Math.Exp(v - max);
            }

            total += row[tokens[t]] - max - Math.Log(sum);
        }

        return total;
    }
}
