using System.Globalization;
using System.Text;

namespace T5Gemma2.Rag.Tests.Infrastructure;

/// <summary>
/// A scrape in the Prometheus text exposition format (0.0.4, and the OpenMetrics lines it shares), parsed strictly:
/// <c># HELP</c> and <c># TYPE</c> lines, samples with labels (escaped values), histograms' <c>_bucket</c>,
/// <c>_sum</c> and <c>_count</c>. A line it cannot read fails the parse, so a malformed scrape fails its test.
/// </summary>
internal sealed class PrometheusText
{
    private PrometheusText(Dictionary<string, string> types, Dictionary<string, string> help, List<Sample> samples)
    {
        this.Types = types;
        this.Help = help;
        this.Samples = samples;
    }

    /// <summary>Each metric family's type (counter, gauge, histogram, summary, untyped) by its name.</summary>
    public IReadOnlyDictionary<string, string> Types { get; }

    public IReadOnlyDictionary<string, string> Help { get; }

    public IReadOnlyList<Sample> Samples { get; }

    public static PrometheusText Parse(string text)
    {
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        var help = new Dictionary<string, string>(StringComparer.Ordinal);
        var samples = new List<Sample>();
        int number = 0;
        foreach (string line in text.Split('\n'))
        {
            number++;
            if (line.Length == 0 || line == "# EOF")
            {
                continue;
            }

            if (line.StartsWith("# TYPE ", StringComparison.Ordinal) || line.StartsWith("# HELP ", StringComparison.Ordinal))
            {
                string[] parts = line[7..].Split(' ', 2);
                Assert.True(parts.Length == 2 && IsName(parts[0]), $"line {number}: '{line}' is not '# TYPE|HELP <name> <text>'");
                if (line[2] == 'T')
                {
                    Assert.True(parts[1] is "counter" or "gauge" or "histogram" or "summary" or "untyped" or "info", $"line {number}: unknown type '{parts[1]}'");
                    Assert.True(types.TryAdd(parts[0], parts[1]), $"line {number}: a second # TYPE for {parts[0]}");
                }
                else
                {
                    help[parts[0]] = parts[1];
                }

                continue;
            }

            if (line.StartsWith('#'))
            {
                continue; // a comment
            }

            samples.Add(ParseSample(line, number));
        }

        return new PrometheusText(types, help, samples);
    }

    /// <summary>The samples of <paramref name="name"/> whose labels include every one of <paramref name="labels"/>.</summary>
    public IEnumerable<Sample> Matching(string name, params (string Name, string Value)[] labels) =>
        this.Samples.Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Name, out var v) && v == l.Value));

    /// <summary>The sum over the matching samples (0 when none: a counter not yet incremented is not exported).</summary>
    public double Sum(string name, params (string Name, string Value)[] labels) => this.Matching(name, labels).Sum(s => s.Value);

    /// <summary>One histogram series (<paramref name="family"/>'s samples with these labels, le apart): its buckets by bound, sum and count.</summary>
    public Histogram HistogramOf(string family, params (string Name, string Value)[] labels)
    {
        Assert.True(this.Types.TryGetValue(family, out var type) && type == "histogram", $"{family} is not declared a histogram (# TYPE {family} {type ?? "(none)"})");
        var buckets = this.Matching(family + "_bucket", labels).ToList();
        var series = buckets.Select(b => SeriesKey(b.Labels)).Distinct().ToList();
        Assert.True(series.Count == 1, $"{family}{{{string.Join(",", labels.Select(l => $"{l.Name}={l.Value}"))}}}: {series.Count} series; expected one");
        var bounds = buckets.Select(b => (Bound: ParseBound(b.Labels["le"]), b.Value)).OrderBy(b => b.Bound).ToList();
        double sum = this.Matching(family + "_sum", labels).Single().Value;
        double count = this.Matching(family + "_count", labels).Single().Value;
        return new Histogram(bounds, sum, count);
    }

    private static string SeriesKey(IReadOnlyDictionary<string, string> labels) =>
        string.Join(",", labels.Where(l => l.Key != "le").OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}"));

    private static double ParseBound(string le) => le == "+Inf" ? double.PositiveInfinity : double.Parse(le, CultureInfo.InvariantCulture);

    private static Sample ParseSample(string line, int number)
    {
        int i = 0;
        while (i < line.Length && line[i] is not ('{' or ' '))
        {
            i++;
        }

        string name = line[..i];
        Assert.True(IsName(name), $"line {number}: '{line}' does not start with a metric name");
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (i < line.Length && line[i] == '{')
        {
            i++;
            while (line[i] != '}')
            {
                int start = i;
                while (line[i] != '=')
                {
                    i++;
                }

                string label = line[start..i];
                Assert.True(IsName(label) && line[i + 1] == '"', $"line {number}: bad label at {start} in '{line}'");
                i += 2;
                var value = new StringBuilder();
                for (; line[i] != '"'; i++)
                {
                    if (line[i] == '\\')
                    {
                        i++;
                        value.Append(line[i] switch { 'n' => '\n', '\\' => '\\', '"' => '"', _ => throw new FormatException($"line {number}: bad escape \\{line[i]}") });
                    }
                    else
                    {
                        value.Append(line[i]);
                    }
                }

                Assert.True(labels.TryAdd(label, value.ToString()), $"line {number}: label {label} twice");
                i++;
                if (line[i] == ',')
                {
                    i++;
                }
            }

            i++;
        }

        string[] rest = line[i..].Trim().Split(' ');
        Assert.True(rest.Length is 1 or 2, $"line {number}: '{line}' is not 'name{{labels}} value [timestamp]'");
        double parsed = rest[0] switch
        {
            "+Inf" => double.PositiveInfinity,
            "-Inf" => double.NegativeInfinity,
            "NaN" => double.NaN,
            _ => double.Parse(rest[0], NumberStyles.Float, CultureInfo.InvariantCulture),
        };
        return new Sample(name, labels, parsed);
    }

    private static bool IsName(string name) =>
        name.Length > 0 && !char.IsAsciiDigit(name[0]) && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or ':');

    public sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

    /// <summary>A histogram series: cumulative bucket counts by upper bound (ascending, +Inf last), sum and count.</summary>
    public sealed record Histogram(IReadOnlyList<(double Bound, double Count)> Buckets, double Sum, double Count);
}
