using T5Gemma2.Rag.Encoder.Models;
using T5Gemma2.Rag.Encoder.Tokenization;

namespace T5Gemma2.Rag.Encoder.Vision;

/// <summary>
/// Builds encoder input ids from text and images in order, as Gemma 3's processor expands its image placeholder
/// (../shared/docs/t5gemma2-vision.md §4): bos, then each image as <c>"\n\n"</c>, begin-of-image,
/// <see cref="VisionConfig.TokensPerImage"/> image soft tokens, end-of-image, <c>"\n\n"</c>.
/// </summary>
/// <remarks>
/// The image ids are emitted by id: the tokenizer maps the soft token's text elsewhere, and text that merely contains
/// <c>&lt;start_of_image&gt;</c> or <c>&lt;image_soft_token&gt;</c> must stay text (it is untrusted). The processor
/// tokenizes the expanded string in one go, and its tokenizer splits at the begin/end-of-image special tokens first,
/// so each run of text between them, with the <c>"\n\n"</c> that the expansion puts beside it, is tokenized as one
/// piece here too: the ids are the processor's, including where a text's own newlines meet the expansion's.
/// </remarks>
public sealed class ImagePromptBuilder
{
    private const string BlockNewlines = "\n\n";

    private readonly GemmaTokenizer _tokenizer;
    private readonly VisionConfig _vision;
    private readonly List<int> _ids = [];
    private string _pendingText = "";
    private bool _started;

    private ImagePromptBuilder(GemmaTokenizer tokenizer, VisionConfig vision)
    {
        this._tokenizer = tokenizer;
        this._vision = vision;
    }

    /// <summary>The number of images added so far: the vision encoder's batch for these ids.</summary>
    public int ImageCount { get; private set; }

    /// <summary>Starts an input for a model with a vision graph; bos comes first when the tokenizer adds it.</summary>
    public static ImagePromptBuilder Create(GemmaTokenizer tokenizer, VisionConfig vision)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(vision);
        return new ImagePromptBuilder(tokenizer, vision);
    }

    /// <summary>Appends text, tokenized as plain text: special-token strings in it stay text.</summary>
    public ImagePromptBuilder AddText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        this._pendingText += text;
        return this;
    }

    /// <summary>Appends one image's block; its features fill the block's soft tokens in the order images were added.</summary>
    public ImagePromptBuilder AddImage()
    {
        this.FlushText(this._pendingText + BlockNewlines);
        this._ids.Add(this._vision.BeginOfImageTokenId);
        this._ids.AddRange(Enumerable.Repeat(this._vision.ImageTokenId, this._vision.TokensPerImage));
        this._ids.Add(this._vision.EndOfImageTokenId);
        this._pendingText = BlockNewlines;
        this.ImageCount++;
        return this;
    }

    /// <summary>The ids so far, with eos appended when asked (the embedding path ends inputs as its tokenizer does).</summary>
    public int[] Build(bool addEndOfSentence = false)
    {
        var ids = new List<int>(this._ids);
        ids.AddRange(this._tokenizer.EncodeToIdsAsPlainText(this._pendingText, addBeginningOfSentence: !this._started && this._tokenizer.AddBeginningOfSentence));
        if (addEndOfSentence && this._tokenizer.EndOfSentenceId is int eos)
        {
            ids.Add(eos);
        }

        return [.. ids];
    }

    private void FlushText(string text)
    {
        this._ids.AddRange(this._tokenizer.EncodeToIdsAsPlainText(text, addBeginningOfSentence: !this._started && this._tokenizer.AddBeginningOfSentence));
        this._started = true;
    }
}
