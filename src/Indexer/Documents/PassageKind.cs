namespace T5Gemma2.Rag.Indexer.Documents;

/// <summary>What a passage holds: text, or an image with its nearby text (<see cref="Passage.Image"/>).</summary>
public enum PassageKind
{
    Text,
    Image,
}
