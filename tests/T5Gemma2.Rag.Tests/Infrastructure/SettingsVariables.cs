namespace T5Gemma2.Rag.Tests.Infrastructure;

/// <summary>The environment variables t5rag's settings read (T5RAG_*, QDRANT_URL, QDRANT_API_KEY), which a test's own process may carry.</summary>
internal static class SettingsVariables
{
    public static bool Is(string name) =>
        name.StartsWith("T5RAG_", StringComparison.OrdinalIgnoreCase) || name.Equals("QDRANT_URL", StringComparison.OrdinalIgnoreCase) || name.Equals("QDRANT_API_KEY", StringComparison.OrdinalIgnoreCase);

    /// <summary>Skips (with the reason shown) an in-process test where one of them would override the settings file under test.</summary>
    public static void SkipWhereSet()
    {
        string? set = Environment.GetEnvironmentVariables().Keys.Cast<string>().FirstOrDefault(Is);
        Assert.SkipWhen(set is not null, $"skipped: {set} is set in this environment and would override the settings file under test");
    }
}
