using T5Gemma2.Rag.Server.Data;
using T5Gemma2.Rag.Server.Jobs;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Server;

/// <summary>The job records in a real service database: what a restart does with the jobs a dead process left running.</summary>
public sealed class IngestJobStoreTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => this._temp.Dispose();

    [Fact]
    public void AJobTheProcessDiedUnderThreeTimesIsFailedNotRunAgainWhileOthersAreRequeued()
    {
        var jobs = new IngestJobStore(ServiceDatabase.Open(this._temp.Combine("service.db")));
        var crashing = Job("crashing.pdf");
        var other = Job("fine.md");
        Assert.True(jobs.Insert(crashing, maxActive: 10));
        Assert.True(jobs.Insert(other, maxActive: 10));

        for (int start = 1; start <= IngestJobStore.MaxInterruptions; start++)
        {
            var next = jobs.NextQueued();
            Assert.NotNull(next);
            Assert.Equal(crashing.Id, next.Id);
            jobs.Start(crashing.Id, DateTimeOffset.UtcNow);

            // The process dies here; the next start recovers.
            var (requeued, failed) = jobs.RequeueRunning(DateTimeOffset.UtcNow);
            Assert.Equal(start < IngestJobStore.MaxInterruptions ? (1, 0) : (0, 1), (requeued, failed));
        }

        var dead = jobs.Get(crashing.Id)!;
        Assert.Equal(IngestJobState.Failed, dead.State);
        Assert.Contains("stopped 3 times", dead.Error, StringComparison.Ordinal);
        Assert.All(dead.Files, f => Assert.Equal(IngestFileState.Failed, f.State));
        Assert.Equal(other.Id, jobs.NextQueued()!.Id);
        Assert.DoesNotContain(crashing.Id, jobs.UnfinishedIds());
    }

    [Fact]
    public void AJobStoppedWithTheServerGoesBackToTheQueueWithoutCountingAsACrash()
    {
        var jobs = new IngestJobStore(ServiceDatabase.Open(this._temp.Combine("service.db")));
        var job = Job("a.md");
        Assert.True(jobs.Insert(job, maxActive: 10));
        for (int stop = 0; stop < IngestJobStore.MaxInterruptions + 1; stop++)
        {
            jobs.Start(job.Id, DateTimeOffset.UtcNow);
            jobs.Requeue(job.Id);
        }

        Assert.Equal((0, 0), jobs.RequeueRunning(DateTimeOffset.UtcNow));
        Assert.Equal(IngestJobState.Queued, jobs.Get(job.Id)!.State);
    }

    private static IngestJob Job(string file)
    {
        string id = IngestJobStore.NewId();
        return new IngestJob(id, "docs", IngestJobState.Queued, "writer", new Dictionary<string, string>(), DateTimeOffset.UtcNow, null, null, 0, 0, 0, 0, 0, null, [new IngestJobFile(0, file, $"{id}/0.md", 10, IngestFileState.Queued, null, file)]);
    }
}
