using System.Diagnostics;
using System.Diagnostics.Metrics;
using T5Gemma2.Rag.Encoder;

namespace T5Gemma2.Rag.Answering;

/// <summary>
/// The spans and instruments of <see cref="RagAnswerer"/>: an <c>ask</c> span over the whole answer (its children
/// <c>retrieve</c> and <c>pack</c> come from the retriever and the packer, <c>generate</c> from here, and
/// <c>encode</c>, <c>decode</c> from the generator below it), and the answer's time to first token and duration,
/// recorded from the <see cref="AnswerTimings"/> the answer reports, not timed again.
/// </summary>
internal static class AnswerTelemetry
{
    // From tens of milliseconds (a small model on a GPU) to the minutes a long CPU answer can take.
    private static readonly double[] s_buckets = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

    private static readonly Histogram<double> s_firstToken = T5RagTelemetry.Meter.CreateHistogram(
        "t5rag.answer.time_to_first_token", "s", "From the question to the answer's first text (retrieve, pack, encode, first decoder steps)", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = s_buckets });

    private static readonly Histogram<double> s_duration = T5RagTelemetry.Meter.CreateHistogram(
        "t5rag.answer.duration", "s", "From the question to the answer's end, a timed-out answer included", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = s_buckets });

    public static Activity? StartAsk(string collection) =>
        T5RagTelemetry.Source.StartActivity("ask")?.SetTag(T5RagTelemetry.CollectionTag, collection);

    /// <summary>
    /// The generation's span, under <paramref name="ask"/> by name: the answer stream resumes in its reader's
    /// context after each update it yields, where <paramref name="ask"/> is no longer the current activity.
    /// </summary>
    public static Activity? StartGenerate(Activity? ask) =>
        T5RagTelemetry.Source.StartActivity("generate", ActivityKind.Internal, ask?.Context ?? default);

    /// <summary>Records the time to the first text delta, once per answer; returns it.</summary>
    public static TimeSpan FirstToken(TimeSpan elapsed, string collection, Activity? generate)
    {
        s_firstToken.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>(T5RagTelemetry.CollectionTag, collection));
        generate?.AddEvent(new ActivityEvent("first_token"));
        return elapsed;
    }

    public static void Answered(AnswerTimings timings, bool timedOut, int cited, string collection, Activity? ask)
    {
        s_duration.Record(timings.Total.TotalSeconds, new KeyValuePair<string, object?>(T5RagTelemetry.CollectionTag, collection));
        ask?.SetTag("t5rag.answer.timed_out", timedOut).SetTag("t5rag.answer.cited", cited);
    }
}
