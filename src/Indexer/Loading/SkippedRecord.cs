namespace T5Gemma2.Rag.Indexer.Loading;

/// <summary>A record of a record file that was left out, and why; the rest of the file still loads.</summary>
/// <param name="Path">The file.</param>
/// <param name="Location">Where in the file: "line 12" (JSON lines) or "index 3" (JSON array).</param>
/// <param name="Reason">One line: what was wrong and what was expected.</param>
public sealed record SkippedRecord(string Path, string Location, string Reason)
{
    /// <summary>"path: line 12: reason", ready for a log line.</summary>
    public override string ToString() => $"{this.Path}: {this.Location}: {this.Reason}";
}
