using System.Diagnostics;
using System.Globalization;

namespace T5Gemma2.Rag.Cli.Bench;

/// <summary>
/// The kernel's high-water mark of resident memory (VmHWM in /proc/&lt;pid&gt;/status), of this process or of another
/// one (a server the benchmark drives from outside), and its reset, so each phase of a run can report its own peak.
/// </summary>
internal static class PeakMemory
{
    /// <summary>VmHWM of <paramref name="processId"/> (null: this process), else for this process .NET's peak working set; null when unknown.</summary>
    public static long? ResidentBytes(int? processId = null)
    {
        string status = $"/proc/{Which(processId)}/status";
        try
        {
            foreach (string line in File.ReadLines(status))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal)
                    && long.TryParse(line["VmHWM:".Length..].Replace("kB", string.Empty, StringComparison.Ordinal).Trim(), CultureInfo.InvariantCulture, out long kilobytes))
                {
                    return kilobytes * 1024;
                }
            }
        }
        catch (IOException)
        {
            // No /proc (not Linux), or the process is gone: what .NET knows, for this process only.
        }
        catch (UnauthorizedAccessException)
        {
            // Another user's process.
        }

        if (processId is not null)
        {
            return null;
        }

        using var process = Process.GetCurrentProcess();
        return process.PeakWorkingSet64;
    }

    /// <summary>
    /// Sets the high-water mark back to the current resident size (writing 5 to /proc/&lt;pid&gt;/clear_refs, Linux 4.0
    /// and later), so the next reading is the peak since now; false where that cannot be done (then readings are the
    /// peak since the process started).
    /// </summary>
    public static bool TryReset(int? processId = null)
    {
        try
        {
            File.WriteAllText($"/proc/{Which(processId)}/clear_refs", "5");
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static string Which(int? processId) => processId?.ToString(CultureInfo.InvariantCulture) ?? "self";
}
