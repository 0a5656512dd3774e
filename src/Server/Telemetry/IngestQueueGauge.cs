using System.Diagnostics.Metrics;
using Microsoft.Data.Sqlite;
using T5Gemma2.Rag.Encoder;
using T5Gemma2.Rag.Server.Jobs;

namespace T5Gemma2.Rag.Server.Telemetry;

/// <summary>
/// <c>t5rag.ingest.queue.depth</c>: the ingestion jobs queued and running (from the service database, so every
/// replica of one database reports the same), and the uploads this replica is staging now. Read when a scrape
/// asks, so it costs nothing between scrapes; its meter comes from the host's <see cref="IMeterFactory"/> and goes
/// with the host.
/// </summary>
internal sealed class IngestQueueGauge
{
    public const string StateTag = "t5rag.job.state";

    public IngestQueueGauge(IMeterFactory meters, IngestJobStore jobs, UploadStaging staging)
    {
        var meter = meters.Create(T5RagTelemetry.Name);
        meter.CreateObservableGauge("t5rag.ingest.queue.depth", () => Observe(jobs, staging), "{job}", "Ingestion jobs waiting (queued), being indexed (running), and uploads being staged into jobs on this replica (staging)");
    }

    private static IEnumerable<Measurement<int>> Observe(IngestJobStore jobs, UploadStaging staging)
    {
        (int Queued, int Running) active;
        try
        {
            active = jobs.CountActiveByState();
        }
        catch (SqliteException)
        {
            // A busy or broken service database: the scrape goes on without the jobs (the worker logs the fault).
            return [State("staging", staging.Count)];
        }

        return [State("queued", active.Queued), State("running", active.Running), State("staging", staging.Count)];
    }

    private static Measurement<int> State(string state, int count) => new(count, new KeyValuePair<string, object?>(StateTag, state));
}
