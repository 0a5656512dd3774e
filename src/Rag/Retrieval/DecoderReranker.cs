using T5Gemma2.Rag.Encoder.Generation;

namespace T5Gemma2.Rag.Retrieval;

/// <summary>
/// Reorders retrieved passages by how well each explains the question, using the T5Gemma 2 model itself: the encoder
/// reads the passage, the decoder scores the question by cross-attention over it, and the score is the mean
/// log p(question token | passage, earlier question tokens). A natural reranker for an encoder-decoder; it costs one
/// encoder pass per passage plus one decoder pass over the question.
/// </summary>
public sealed class DecoderReranker
{
    private readonly Seq2SeqGenerator _generator;

    public DecoderReranker(Seq2SeqGenerator generator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        this._generator = generator;
    }

    /// <summary>The passages best first by the decoder's score, which replaces their retrieval score.</summary>
    public async Task<IReadOnlyList<RetrievedPassage>> RerankAsync(string question, IReadOnlyList<RetrievedPassage> passages, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(question);
        ArgumentNullException.ThrowIfNull(passages);
        var tokenizer = this._generator.Tokenizer;
        int[] target = [.. tokenizer.EncodeToIdsAsPlainText(question.Trim())];
        int limit = this._generator.Config.Encoder.MaxPositionEmbeddings;
        var scored = new List<RetrievedPassage>(passages.Count);
        foreach (var passage in passages)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int[] body = [.. tokenizer.EncodeToIdsAsPlainText(passage.Text)];
            int[] input = [.. tokenizer.BeginningOfSentenceId is int bos ? [bos] : Array.Empty<int>(), .. body.Take(limit - 1)];
            double logLikelihood = await this._generator.LogLikelihoodAsync(input, target, cancellationToken).ConfigureAwait(false);
            scored.Add(passage with { Score = logLikelihood / target.Length });
        }

        return [.. scored.OrderByDescending(p => p.Score)];
    }
}
