using System.Diagnostics;

namespace T5Gemma2.Rag.Tests.Infrastructure;

/// <summary>
/// A filesystem mounted for one test (a small tmpfs, a read-only bind mount), unmounted on dispose. Mounting needs root
/// and a container that permits it; where it is not permitted, <see cref="TryCreate"/> says why, for the test's skip line.
/// </summary>
internal sealed class Mount : IDisposable
{
    private Mount(string path)
    {
        this.Path = path;
    }

    /// <summary>The mount point.</summary>
    public string Path { get; }

    /// <summary>An empty tmpfs of <paramref name="mebibytes"/> MiB at <paramref name="path"/> (created); null and the reason when it cannot be mounted here.</summary>
    public static Mount? TmpFs(string path, int mebibytes, out string? reason) =>
        TryCreate(path, out reason, ["-t", "tmpfs", "-o", $"size={mebibytes}m", "tmpfs", path]);

    /// <summary><paramref name="source"/> seen read-only at <paramref name="path"/> (created); null and the reason when it cannot be mounted here.</summary>
    public static Mount? ReadOnlyBind(string source, string path, out string? reason)
    {
        var mount = TryCreate(path, out reason, ["--bind", source, path]);
        if (mount is not null && Run(["-o", "remount,bind,ro", path], out reason) is false)
        {
            mount.Dispose();
            return null;
        }

        return mount;
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (!Run(["-l", this.Path], out string? error, program: "umount"))
        {
            Console.Error.WriteLine($"umount {this.Path} failed: {error}");
        }
    }

    private static Mount? TryCreate(string path, out string? reason, string[] arguments)
    {
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root")
        {
            reason = $"mounting a filesystem needs root on Linux (running as {Environment.UserName} on {Environment.OSVersion.Platform})";
            return null;
        }

        Directory.CreateDirectory(path);
        return Run(arguments, out reason) ? new Mount(path) : null;
    }

    private static bool Run(string[] arguments, out string? error, string program = "mount")
    {
        var start = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        try
        {
            using var process = Process.Start(start)!;
            string stderr = process.StandardError.ReadToEnd();
            process.WaitForExit();
            error = process.ExitCode == 0 ? null : $"{program} {string.Join(' ', arguments)} is not permitted here: {stderr.Trim()}";
            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            error = $"{program} cannot be run here ({ex.Message})";
            return false;
        }
    }
}
