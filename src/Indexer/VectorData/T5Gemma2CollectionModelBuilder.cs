using Microsoft.Extensions.AI;
using Microsoft.Extensions.VectorData;
using Microsoft.Extensions.VectorData.ProviderServices;
using T5Gemma2.Rag.Indexer.Stores.Fields;

namespace T5Gemma2.Rag.Indexer.VectorData;

/// <summary>
/// MEVD's model building (attributes, record definitions, embedding generators) with what our stores hold: one vector
/// per record (float32, cosine similarity), a string or Guid key (Guid keys may be generated), data properties of
/// <see cref="RecordFieldTypes.Supported"/>, at most one of them full-text indexed (the passage text that BM25 ranks),
/// and names that are plain identifiers.
/// </summary>
internal sealed class T5Gemma2CollectionModelBuilder() : CollectionModelBuilder(s_options)
{
    private const string SupportedVectorTypes = "ReadOnlyMemory<float>, Embedding<float>, float[] (or a type an embedding generator takes, such as string)";

    private static readonly CollectionModelBuildingOptions s_options = new() { SupportsMultipleVectors = false, RequiresAtLeastOneVector = true };

    protected override bool IsDataPropertyTypeValid(Type type, out string supportedTypes)
    {
        supportedTypes = RecordFieldTypes.Supported;
        return RecordFieldTypes.KindOf(type) is not null;
    }

    protected override bool IsVectorPropertyTypeValid(Type type, out string supportedTypes)
    {
        supportedTypes = SupportedVectorTypes;
        return IsNativeVector(type);
    }

    protected override bool SupportsKeyAutoGeneration(Type keyPropertyType) => keyPropertyType == typeof(Guid);

    protected override void ValidateKeyProperty(KeyPropertyModel keyProperty)
    {
        base.ValidateKeyProperty(keyProperty);
        if (keyProperty.Type != typeof(string) && keyProperty.Type != typeof(Guid))
        {
            throw new NotSupportedException($"key property '{keyProperty.ModelName}' is a {keyProperty.Type.Name}; the T5Gemma2 stores take string or Guid keys.");
        }
    }

    protected override void ValidateProperty(PropertyModel propertyModel, VectorStoreCollectionDefinition? definition)
    {
        base.ValidateProperty(propertyModel, definition);
        try
        {
            PassageFields.ThrowIfInvalidName(propertyModel.StorageName, "property");
        }
        catch (ArgumentException ex)
        {
            throw new NotSupportedException(ex.Message, ex);
        }

        if (propertyModel is VectorPropertyModel vector)
        {
            if (vector.DistanceFunction is not (null or DistanceFunction.CosineSimilarity))
            {
                throw new NotSupportedException($"vector property '{vector.ModelName}' asks for {vector.DistanceFunction}; the T5Gemma2 stores rank by {DistanceFunction.CosineSimilarity} only.");
            }

            if (vector.IndexKind is not (null or IndexKind.Hnsw or IndexKind.Flat))
            {
                throw new NotSupportedException($"vector property '{vector.ModelName}' asks for a {vector.IndexKind} index; the T5Gemma2 stores search by {IndexKind.Hnsw} (exactly below the embedded store's threshold).");
            }
        }
    }

    protected override void Validate(Type? type, VectorStoreCollectionDefinition? definition)
    {
        base.Validate(type, definition);
        var fullText = this.DataProperties.Where(p => p.IsFullTextIndexed).ToList();
        if (fullText.Count > 1)
        {
            throw new NotSupportedException($"{string.Join(" and ", fullText.Select(p => $"'{p.ModelName}'"))} are both full-text indexed; the T5Gemma2 stores keyword-index one text property per record.");
        }

        if (fullText is [{ } text] && text.Type != typeof(string))
        {
            throw new NotSupportedException($"full-text property '{text.ModelName}' is a {text.Type.Name}; a full-text property is a string.");
        }
    }

    /// <summary>The vector types the stores take as they are; any other vector property type goes through an embedding generator.</summary>
    public static bool IsNativeVector(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type == typeof(ReadOnlyMemory<float>) || type == typeof(Embedding<float>) || type == typeof(float[]);
    }
}
