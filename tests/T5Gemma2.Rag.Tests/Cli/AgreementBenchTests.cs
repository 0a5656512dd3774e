using System.Globalization;
using T5Gemma2.Rag.Cli;
using T5Gemma2.Rag.Encoder.Conversion;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Cli;

/// <summary>t5rag bench agreement on the tiny model: the baseline agrees with itself, a quantized form nearly so.</summary>
public sealed class AgreementBenchTests(SharedTinyT5Gemma2 tiny)
{
    [Fact]
    public async Task ReportsTopTenOverlapAndCosinePerModelAndQueryFile()
    {
        using var temp = new TempDirectory();
        string int4 = CheckpointConverter.Convert(tiny.CheckpointDirectory, temp.Combine("int4"), WeightFormat.Int4, cancellationToken: TestContext.Current.CancellationToken).OutputDirectory;
        string corpus = temp.Write("corpus.jsonl", string.Concat(Enumerable.Range(0, 40).Select(i => $"{{\"_id\": \"d{i}\", \"title\": \"\", \"text\": \"passage {i} about topic {i % 7} and more {i * 13 % 11}\"}}\n")));
        string beir = temp.Write("queries.jsonl", string.Concat(Enumerable.Range(0, 4).Select(i => $"{{\"_id\": \"q{i}\", \"text\": \"what about topic {i}\"}}\n")));
        string squad = temp.Write("squad.json", "{\"data\": [{\"paragraphs\": [{\"context\": \"not a query\", \"qas\": [{\"question\": \"which topic is first?\"}, {\"question\": \"how many topics?\"}]}]}]}");

        var (code, output, _) = await CliRunner.RunAsync("bench", "agreement", "-m", tiny.ConvertedDirectory, int4, "--corpus", corpus, "--queries", beir, squad, "--query-count", "5");

        Assert.Equal(ExitCodes.Success, code);
        Assert.Contains("40 passages, 5 queries (4 from queries.jsonl, 1 from squad.json)", output, StringComparison.Ordinal);
        string[] baseline = Row(output, tiny.ConvertedDirectory), quantized = Row(output, int4);
        Assert.Equal(["1.000", "queries.jsonl", "1.000;", "squad.json", "1.000", "1.0000", "1.0000"], baseline[1..8]);
        double overlap = double.Parse(quantized[1], CultureInfo.InvariantCulture), cosine = double.Parse(quantized[6], CultureInfo.InvariantCulture);
        Assert.InRange(overlap, 0.5, 1.0);
        Assert.InRange(cosine, 0.99, 1.0);
    }

    [Fact]
    public async Task OneModelIsAUsageError()
    {
        using var temp = new TempDirectory();
        string corpus = temp.Write("corpus.jsonl", "{\"text\": \"a\"}\n");

        var (code, _, error) = await CliRunner.RunAsync("bench", "agreement", "-m", tiny.ConvertedDirectory, "--corpus", corpus, "--queries", corpus);

        Assert.Equal(ExitCodes.UsageError, code);
        Assert.Contains("expected the baseline first", error, StringComparison.Ordinal);
    }

    private static string[] Row(string output, string model) =>
        output.Split('\n').Single(line => line.StartsWith(model + " ", StringComparison.Ordinal))[model.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries).Prepend(model).ToArray();
}
