using System.Diagnostics;

namespace T5Gemma2.Rag.Tests.Infrastructure;

/// <summary>
/// t5rag in a child process: for what one process cannot show of itself (two writers on one store) and for what the
/// settings read from the environment, which is the process's own and shared by tests that run in parallel.
/// </summary>
internal static class T5ragProcess
{
    /// <summary>Starts <c>t5rag <paramref name="args"/></c> with stdout and stderr redirected.</summary>
    /// <param name="environment">Variables to set; the settings variables of the shell that runs the tests are removed first, so they do not mix in.</param>
    /// <param name="workingDirectory">Where it runs (where it looks for ./t5rag.json); null: this process's.</param>
    public static Process Start(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (string argument in (string[])["exec", Path.Combine(AppContext.BaseDirectory, "t5rag.dll"), .. args])
        {
            start.ArgumentList.Add(argument);
        }

        foreach (string name in start.Environment.Keys.Where(SettingsVariables.Is).ToList())
        {
            start.Environment.Remove(name);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        return Process.Start(start)!;
    }

    /// <summary>Waits for the process and returns its exit code and output; kills it past <paramref name="limit"/>.</summary>
    public static async Task<(int ExitCode, string Out, string Error)> FinishAsync(Process process, TimeSpan limit)
    {
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(limit);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await output, await error);
    }

    /// <summary>Runs <c>t5rag <paramref name="args"/></c> to the end (two minutes at most).</summary>
    public static async Task<(int ExitCode, string Out, string Error)> RunAsync(IReadOnlyDictionary<string, string> environment, string? workingDirectory, params string[] args)
    {
        using var process = Start(args, environment, workingDirectory);
        return await FinishAsync(process, TimeSpan.FromMinutes(2));
    }
}
