using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.AI;
using T5Gemma2.Rag.Encoder.Embeddings;
using T5Gemma2.Rag.Indexer.Stores;

namespace T5Gemma2.Rag.Indexer.Pipeline;

/// <summary>
/// The embed stage of an <see cref="IngestRun"/>: gathers prepared documents into batches of about
/// <c>batchPassages</c> passages, reuses the stored vectors of passages that did not change, embeds the rest in one
/// call, and hands the batch's updates to the write stage. A batch that fails to embed is reported and the run goes on.
/// </summary>
internal sealed class EmbeddingStage(IngestRun run, IEmbeddingGenerator<string, Embedding<float>> embedder, IPassageCollection collection, int batchPassages)
{
    public async Task RunAsync(ChannelReader<PreparedDocument> reader, ChannelWriter<(List<DocumentUpdate> Updates, List<PreparedDocument> Documents)> writer, CancellationToken cancellationToken)
    {
        try
        {
            var batch = new List<PreparedDocument>();
            int passages = 0;
            while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (reader.TryRead(out var document))
                {
                    batch.Add(document);
                    passages += document.Passages.Count;
                    if (passages >= batchPassages)
                    {
                        await this.FlushAsync(batch, writer, cancellationToken).ConfigureAwait(false);
                        batch = [];
                        passages = 0;
                    }
                }

                // Nothing more waiting: embed what there is rather than hold documents back.
                if (batch.Count > 0)
                {
                    await this.FlushAsync(batch, writer, cancellationToken).ConfigureAwait(false);
                    batch = [];
                    passages = 0;
                }
            }
        }
        finally
        {
            writer.TryComplete();
        }
    }

    private async Task FlushAsync(List<PreparedDocument> batch, ChannelWriter<(List<DocumentUpdate> Updates, List<PreparedDocument> Documents)> writer, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            // Passages a changed document already had (same document, index and text) keep their stored vectors.
            var known = batch.Where(d => d.Previous is not null).SelectMany(d => d.Passages).Select(p => p.Id).ToList();
            var reused = known.Count == 0
                ? new Dictionary<string, float[]>()
                : await collection.GetVectorsAsync(known, cancellationToken).ConfigureAwait(false);
            var toEmbed = batch.SelectMany(d => d.Passages).Where(p => !reused.ContainsKey(p.Id)).ToList();
            foreach (var document in batch.Where(d => d.Previous is not null))
            {
                document.ReusedIds.UnionWith(document.Passages.Select(p => p.Id).Where(reused.ContainsKey));
            }

            var vectors = new Dictionary<string, ReadOnlyMemory<float>>(StringComparer.Ordinal);
            if (toEmbed.Count > 0)
            {
                var options = new EmbeddingGenerationOptions().WithInputKind(EmbeddingInputKind.Passage);
                var embeddings = await embedder.GenerateAsync([.. toEmbed.Select(PassageCutter.EmbeddingInput)], options, cancellationToken).ConfigureAwait(false);
                for (int i = 0; i < toEmbed.Count; i++)
                {
                    vectors[toEmbed[i].Id] = embeddings[i].Vector;
                }
            }

            var updates = batch.Select(d => new DocumentUpdate(
                d.Record,
                [.. d.Passages.Select(p => new StoredPassage(p, vectors.TryGetValue(p.Id, out var v) ? v : reused[p.Id]))])).ToList();
            run.CountEmbedded(toEmbed.Count, reused.Count, toEmbed.Sum(p => (long)p.TokenCount), Stopwatch.GetElapsedTime(started));
            await writer.WriteAsync((updates, batch), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ItemFaults.IsOfOneItem(ex))
        {
            // One bad batch must not end the run: its documents are reported and left as they were.
            foreach (var document in batch)
            {
                run.Fail(document.Origin, $"document '{document.Record.DocumentId}' could not be embedded ({ex.GetType().Name}: {ex.Message.Split('\n')[0]})");
            }
        }
    }
}
