using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using T5Gemma2.Rag.Cli.Console;

namespace T5Gemma2.Rag.Cli.Bench;

/// <summary>
/// What every benchmark prints first, so a figure can be reproduced: the CPU, the cores this process may use, the
/// threads the measured work ran on, ONNX Runtime's version, and the command line.
/// </summary>
internal static class BenchEnvironment
{
    /// <param name="threads">The threads the measured work runs on, in words (e.g. "2 (ONNX Runtime intra-op)").</param>
    public static async Task WriteAsync(CliConsole console, string threads)
    {
        await console.Out.WriteLineAsync($"machine: {CpuModel()}, {Environment.ProcessorCount} cores usable by this process ({OnlineCpus()} online), {RuntimeInformation.OSDescription}");
        await console.Out.WriteLineAsync($"threads: {threads}");
        await console.Out.WriteLineAsync($"runtime: ONNX Runtime {OrtEnv.Instance().GetVersionString()}, {RuntimeInformation.FrameworkDescription}");
        // An API key (bench serve --key) is a secret: its value is not printed.
        await console.Out.WriteLineAsync($"command: t5rag {string.Join(' ', console.Arguments.Select((a, i) => i > 0 && console.Arguments[i - 1] == "--key" ? "***" : Quote(a)))}");
    }

    /// <summary>The threads of ONNX Runtime sessions, in words.</summary>
    public static string IntraOp(int threads) => $"{threads} (ONNX Runtime intra-op; the limits measured with the same)";

    private static string CpuModel()
    {
        const string cpuInfo = "/proc/cpuinfo";
        if (File.Exists(cpuInfo))
        {
            foreach (string line in File.ReadLines(cpuInfo))
            {
                if (line.StartsWith("model name", StringComparison.Ordinal) && line.IndexOf(':', StringComparison.Ordinal) is int colon and > 0)
                {
                    return line[(colon + 1)..].Trim();
                }
            }
        }

        return RuntimeInformation.ProcessArchitecture.ToString();
    }

    private static string OnlineCpus()
    {
        const string online = "/sys/devices/system/cpu/online";
        return File.Exists(online) ? $"cpus {File.ReadAllText(online).Trim()}" : "unknown";
    }

    private static string Quote(string argument) => argument.Length > 0 && !argument.Any(c => char.IsWhiteSpace(c) || c is '"' or '\'') ? argument : $"\"{argument.Replace("\"", "\\\"", StringComparison.Ordinal)}\"";
}
