using System.Globalization;
using System.Text.Json;
using T5Gemma2.Rag.Cli.Console;

namespace T5Gemma2.Rag.Cli.Bench;

/// <summary>
/// Reads ONNX Runtime's profiles (one JSON file per session) and prints, for the session that ran most often (a
/// generator's step graph), where a run's time goes by operator type: what to fuse next.
/// </summary>
internal static class OnnxProfileSummary
{
    /// <param name="prefix">The path the profiles' file names start with.</param>
    public static async Task WriteAsync(CliConsole console, string prefix)
    {
        string directory = Path.GetDirectoryName(Path.GetFullPath(prefix))!;
        var profiles = Directory.EnumerateFiles(directory, Path.GetFileName(prefix) + "*.json").Select(Read).Where(p => p.Runs > 0).ToList();
        if (profiles.Count == 0)
        {
            await console.Error.WriteLineAsync($"no ONNX Runtime profile starting with {prefix}; expected one per session.");
            return;
        }

        var busiest = profiles.MaxBy(p => p.Runs)!;
        var culture = CultureInfo.InvariantCulture;
        double kernels = busiest.ByOperator.Values.Sum(v => v.Microseconds) / busiest.Runs;
        await console.Out.WriteLineAsync(string.Create(culture, $"profile {busiest.Path}: {busiest.Runs} runs, {busiest.RunMicroseconds / busiest.Runs:F0} µs per run, {kernels:F0} µs in {busiest.ByOperator.Values.Sum(v => v.Nodes) / (double)busiest.Runs:F0} operators"));
        console.WriteTable(
            "time per run by operator type",
            ["operator", "µs per run", "nodes per run", "share"],
            busiest.ByOperator.OrderByDescending(o => o.Value.Microseconds).Take(16).Select(o => (string[])[
                o.Key,
                (o.Value.Microseconds / busiest.Runs).ToString("F0", culture),
                (o.Value.Nodes / (double)busiest.Runs).ToString("F0", culture),
                (o.Value.Microseconds / busiest.Runs / kernels).ToString("P0", culture),
            ]));
    }

    private static Profile Read(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        var byOperator = new Dictionary<string, (double Microseconds, int Nodes)>(StringComparer.Ordinal);
        int runs = 0;
        double runMicroseconds = 0;
        foreach (var e in document.RootElement.EnumerateArray())
        {
            string category = e.TryGetProperty("cat", out var c) ? c.GetString() ?? string.Empty : string.Empty;
            string name = e.TryGetProperty("name", out var n) ? n.GetString() ?? string.Empty : string.Empty;
            double duration = e.TryGetProperty("dur", out var d) ? d.GetDouble() : 0;
            if (category == "Session" && name == "model_run")
            {
                runs++;
                runMicroseconds += duration;
            }
            else if (category == "Node" && name.EndsWith("_kernel_time", StringComparison.Ordinal)
                && e.TryGetProperty("args", out var args) && args.TryGetProperty("op_name", out var op) && op.GetString() is { } type)
            {
                var (microseconds, nodes) = byOperator.GetValueOrDefault(type);
                byOperator[type] = (microseconds + duration, nodes + 1);
            }
        }

        return new Profile(path, runs, runMicroseconds, byOperator);
    }

    private sealed record Profile(string Path, int Runs, double RunMicroseconds, Dictionary<string, (double Microseconds, int Nodes)> ByOperator);
}
