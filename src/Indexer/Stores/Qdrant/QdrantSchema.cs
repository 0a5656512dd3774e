using Qdrant.Client.Grpc;
using T5Gemma2.Rag.Indexer.Documents;
using T5Gemma2.Rag.Indexer.Stores.Fields;

namespace T5Gemma2.Rag.Indexer.Stores.Qdrant;

/// <summary>
/// How a t5rag collection is laid out in Qdrant. One Qdrant collection per t5rag collection holds two kinds of points,
/// told apart by the <see cref="Kind"/> payload field:
/// <list type="bullet">
/// <item>passages: point id = the passage id (a UUID, <see cref="PassageIds.Create"/>), named vectors
/// <see cref="DenseVector"/> (cosine) and <see cref="SparseVector"/> (BM25, IDF modifier), the passage as payload;</item>
/// <item>document records: point id = <see cref="DocumentPointId"/>, no vectors (so no search ever returns one), the
/// <see cref="DocumentRecord"/> as payload.</item>
/// </list>
/// Keeping records beside their passages makes a collection one unit for snapshots, sharding and deletion. The
/// collection's embedding model, dimensions and creation time live in the collection's metadata (Qdrant ≥ 1.15).
/// </summary>
internal static class QdrantSchema
{
    /// <summary>Layout version in the metadata; a newer one is refused rather than misread.</summary>
    public const int Version = 1;

    public const string DenseVector = "dense";
    public const string SparseVector = "bm25";

    public const string Kind = "kind";
    public const string PassageKind = "passage";
    public const string DocumentKind = "document";

    public const string DocumentId = "doc_id";
    public const string Source = "source";

    /// <summary>Every prefix of the source that ends at a '/' or '\' (keyword-indexed): what makes source-prefix filters exact on the server.</summary>
    public const string SourceDirectories = "source_dirs";
    public const string Title = "title";
    public const string Section = "section";
    public const string Page = "page";
    public const string Start = "start";
    public const string Length = "length";
    public const string Chunk = "chunk";
    public const string Text = "text";
    public const string ContentHash = "content_hash";
    public const string TokenCount = "token_count";
    public const string Tags = "tags";

    /// <summary>"image" for an image passage; absent for text (so points written before images existed read as text).</summary>
    public const string PassageContent = "passage_kind";
    public const string ImagePassage = "image";

    /// <summary>An image passage's media type, and its encoded bytes as base64 (kept so answering needs no source file).</summary>
    public const string ImageType = "image_type";
    public const string Image = "image";

    /// <summary>The tags as "key=value" strings (keyword-indexed), one index serving every tag filter; '=' and '\' in keys are escaped.</summary>
    public const string TagPairs = "tag_pairs";

    /// <summary>Unix milliseconds (integer-indexed, for <see cref="PassageFilter.IndexedAfter"/>).</summary>
    public const string IndexedAt = "indexed_at";
    public const string PassageCount = "passage_count";

    /// <summary>The tenant field: the value of <see cref="QdrantStoreOptions.TenantTag"/>, indexed with is_tenant.</summary>
    public const string Tenant = "tenant";

    public const string MetaSchema = "t5rag_schema";
    public const string MetaModel = "t5rag_model_id";
    public const string MetaDimensions = "t5rag_dimensions";
    public const string MetaQueryPrompt = "t5rag_query_prompt";
    public const string MetaPassagePrompt = "t5rag_passage_prompt";
    public const string MetaCreatedAt = "t5rag_created_at";

    /// <summary>The record schema (<see cref="RecordSchema.ToJson"/>) of a collection written through the VectorData connector.</summary>
    public const string MetaRecordSchema = "t5rag_record_schema";

    /// <summary>A passage's typed fields, as one nested object: a field is filtered as <see cref="FieldKey"/>.</summary>
    public const string Fields = "fields";

    /// <summary>A field's payload path ("fields.Rating"); field names are plain identifiers (<see cref="PassageFields.ThrowIfInvalidName"/>), so no quoting is needed.</summary>
    public static string FieldKey(string field)
    {
        PassageFields.ThrowIfInvalidName(field, "field");
        return Fields + "." + field;
    }

    /// <summary>The payload index a field of this kind gets: timestamps, stored as RFC 3339 text, a datetime one.</summary>
    public static PayloadSchemaType FieldIndexType(FieldKind kind) => kind switch
    {
        FieldKind.String or FieldKind.StringList => PayloadSchemaType.Keyword,
        FieldKind.Integer or FieldKind.IntegerList => PayloadSchemaType.Integer,
        FieldKind.Number or FieldKind.NumberList => PayloadSchemaType.Float,
        FieldKind.Boolean => PayloadSchemaType.Bool,
        _ => PayloadSchemaType.Datetime,
    };

    /// <summary>
    /// The point id of a document's record: a passage-style id at chunk index −1, which no passage has, so it never
    /// collides with one.
    /// </summary>
    public static Guid DocumentPointId(string documentId) => Guid.Parse(PassageIds.Create(documentId, -1, "t5rag:document"));
}
