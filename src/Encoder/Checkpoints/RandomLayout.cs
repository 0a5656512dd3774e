namespace T5Gemma2.Rag.Encoder.Checkpoints;

/// <summary>The repository layouts <see cref="RandomCheckpoint"/> writes, each with exactly the files and tensor names of the real ones.</summary>
public enum RandomLayout
{
    /// <summary>A full T5Gemma 2 encoder-decoder checkpoint (<c>t5gemma2</c>, <c>model.encoder.*</c> and <c>model.decoder.*</c>).</summary>
    T5Gemma2,

    /// <summary>
    /// A sentence-transformers repository of a standalone T5Gemma 2 encoder (<c>t5gemma2_encoder</c>, bare
    /// <c>embed_tokens.*</c>/<c>layers.*</c>/<c>norm.*</c>), as sentence-transformers 5.4+ saves it: Transformer, mean
    /// Pooling, Normalize, and query/document prompts.
    /// </summary>
    SentenceTransformersT5Gemma2Encoder,

    /// <summary>
    /// google/embeddinggemma-300m's layout: a bidirectional <c>gemma3_text</c> model, then mean Pooling, Dense 768→3072,
    /// Dense 3072→768 and Normalize, its 14 task prompts, and a tokenizer that appends <c>&lt;eos&gt;</c>.
    /// </summary>
    EmbeddingGemma,
}
