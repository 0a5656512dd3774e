using System.Diagnostics;

namespace T5Gemma2.Rag.Tests.Infrastructure;

/// <summary>
/// Runs t5rag in a child process with the environment and working directory a test chooses: what the settings read
/// from the environment can only be tested this way, since the variables are the process's own and tests run in
/// parallel.
/// </summary>
internal static class T5ragProcess
{
    public static async Task<(int ExitCode, string Out, string Error)> RunAsync(IReadOnlyDictionary<string, string> environment, string? workingDirectory, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "t5rag.dll"));
        foreach (string argument in args)
        {
            start.ArgumentList.Add(argument);
        }

        // Settings variables of the shell that runs the tests would mix with the ones the test sets.
        foreach (string name in start.Environment.Keys.Where(SettingsVariables.Is).ToList())
        {
            start.Environment.Remove(name);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"t5rag {string.Join(' ', args)} did not finish in 2 minutes");
        }

        return (process.ExitCode, await output, await error);
    }
}
