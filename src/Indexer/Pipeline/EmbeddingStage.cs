using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.AI;
using T5Gemma2.Rag.Encoder.Embeddings;
using T5Gemma2.Rag.Encoder.Images;
using T5Gemma2.Rag.Indexer.Documents;
using T5Gemma2.Rag.Indexer.Stores;

namespace T5Gemma2.Rag.Indexer.Pipeline;

/// <summary>
/// The embed stage of an <see cref="IngestRun"/>: gathers prepared documents into batches of about
/// <c>batchPassages</c> passages, reuses the stored vectors of passages that did not change, embeds the rest in one
/// call (image passages in one call of the image generator), and hands the batch's updates to the write stage. A batch
/// that fails to embed is reported and the run goes on; an image that cannot be decoded is reported and left out of its
/// document, whose other passages are written.
/// </summary>
internal sealed class EmbeddingStage(IngestRun run, IEmbeddingGenerator<string, Embedding<float>> embedder, IEmbeddingGenerator<DataContent, Embedding<float>>? imageEmbedder, IPassageCollection collection, int batchPassages)
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
            var options = new EmbeddingGenerationOptions().WithInputKind(EmbeddingInputKind.Passage);
            var texts = toEmbed.Where(p => p.Kind == PassageKind.Text).ToList();
            if (texts.Count > 0)
            {
                var embeddings = await embedder.GenerateAsync([.. texts.Select(PassageCutter.EmbeddingInput)], options, cancellationToken).ConfigureAwait(false);
                for (int i = 0; i < texts.Count; i++)
                {
                    vectors[texts[i].Id] = embeddings[i].Vector;
                }
            }

            var images = toEmbed.Where(p => p.Kind == PassageKind.Image).ToList();
            long imageTokens = images.Count == 0 ? 0 : await this.EmbedImagesAsync(batch, images, options, vectors, cancellationToken).ConfigureAwait(false);
            int embedded = vectors.Count;

            var updates = batch.Select(d => new DocumentUpdate(
                d.Record,
                [.. d.Passages.Select(p => new StoredPassage(p, vectors.TryGetValue(p.Id, out var v) ? v : reused[p.Id]))])).ToList();
            run.CountEmbedded(embedded, reused.Count, texts.Sum(p => (long)p.TokenCount) + imageTokens, Stopwatch.GetElapsedTime(started), images.Count(p => vectors.ContainsKey(p.Id)));
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

    /// <summary>
    /// Embeds the batch's image passages in one call; when an image cannot be decoded, one at a time, so each bad image
    /// is reported and removed from its document (whose record then says it is incomplete, so the next run looks at it
    /// again) while the others are kept. Returns the tokens the encoder took.
    /// </summary>
    private async Task<long> EmbedImagesAsync(List<PreparedDocument> batch, List<Passage> images, EmbeddingGenerationOptions options, Dictionary<string, ReadOnlyMemory<float>> vectors, CancellationToken cancellationToken)
    {
        var generator = imageEmbedder ?? throw new InvalidOperationException("image passages were cut without an image embedding generator");
        static DataContent Content(Passage p) => new(p.Image!.Data, p.Image.MediaType) { Name = $"{p.Source} (image passage {p.ChunkIndex}{(p.Page is int page ? $", page {page}" : "")})" };
        try
        {
            var embeddings = await generator.GenerateAsync([.. images.Select(Content)], options, cancellationToken).ConfigureAwait(false);
            for (int i = 0; i < images.Count; i++)
            {
                vectors[images[i].Id] = embeddings[i].Vector;
            }

            return embeddings.Usage?.InputTokenCount ?? 0;
        }
        catch (ImageFileException)
        {
            long tokens = 0;
            foreach (var image in images)
            {
                try
                {
                    var one = await generator.GenerateAsync([Content(image)], options, cancellationToken).ConfigureAwait(false);
                    vectors[image.Id] = one[0].Vector;
                    tokens += one.Usage?.InputTokenCount ?? 0;
                }
                catch (ImageFileException ex)
                {
                    var document = batch.First(d => d.Record.DocumentId == image.DocumentId);
                    run.Fail(document.Origin, ex.Message);
                    document.Passages.Remove(image);
                    int index = batch.IndexOf(document);
                    batch[index] = document with { Record = document.Record with { PassageCount = document.Passages.Count, ContentHash = document.Record.ContentHash + IncompleteMark } };
                }
            }

            return tokens;
        }
    }

    /// <summary>Appended to the hash of a document written without a bad image, so the next run does not take it as unchanged.</summary>
    private const string IncompleteMark = ":incomplete";
}
