using T5Gemma2.Rag.Server.Hosting;

namespace T5Gemma2.Rag.Cli.Bench;

/// <summary>What <c>t5rag bench serve</c> was asked to do.</summary>
/// <param name="Url">The running server to drive (as given: checked here); null with <paramref name="Start"/>.</param>
/// <param name="Key">The API key sent as the bearer token; null sends none (loopback, while the server has no key).</param>
/// <param name="Start">The options of the server to start in this process (its store, models, limits), read once the command line is known to be whole; null drives <paramref name="Url"/>.</param>
/// <param name="ServerProcessId">The remote server's process, whose peak resident memory /proc tells; null: unknown.</param>
/// <param name="JobTimeout">How long the writer waits for one upload's job.</param>
internal sealed record ServeBenchmarkSettings(
    string? Url,
    string? Key,
    Func<KnowledgeBaseServerOptions>? Start,
    int? ServerProcessId,
    string Collection,
    int Passages,
    int Searchers,
    int Seconds,
    string Mode,
    int Askers,
    int AskSeconds,
    int AskTokens,
    int Seed,
    TimeSpan JobTimeout,
    bool Json);
