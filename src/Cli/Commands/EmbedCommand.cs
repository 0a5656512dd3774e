using System.CommandLine;
using System.Globalization;
using System.Numerics.Tensors;
using System.Text.Json;
using Microsoft.Extensions.AI;
using T5Gemma2.Rag.Cli.Console;
using T5Gemma2.Rag.Encoder.Embeddings;
using T5Gemma2.Rag.Encoder.Images;

namespace T5Gemma2.Rag.Cli.Commands;

/// <summary><c>t5rag embed</c>: embeds images and texts and prints the dimension and their cosine matrix, or the vectors as JSON.</summary>
internal static class EmbedCommand
{
    public static Command Create(CliConsole console)
    {
        var modelOption = new Option<string>("--model", "-m") { Description = "A model directory (T5Gemma 2 conversion or sentence-transformers ONNX export)", Required = true };
        var jsonOption = new Option<bool>("--json") { Description = "Print the vectors as JSON" };
        var queryOption = new Option<bool>("--query") { Description = "Embed the texts as queries (the model's query prompt)" };
        var promptOption = new Option<string?>("--prompt") { Description = "Embed with the model's prompt of this name (config_sentence_transformers.json, e.g. Clustering or STS)" };
        var dimensionsOption = new Option<int?>("--dimensions") { Description = "Fewer dimensions: the vectors' leading components, renormalised (Matryoshka)" };
        var imageOption = new Option<string[]>("--image") { Description = "An image file to embed (PNG, JPEG, WebP, GIF, BMP), in the texts' space; repeatable; needs a model with a vision graph", AllowMultipleArgumentsPerToken = false };
        var textsArgument = new Argument<string[]>("texts") { Description = "Texts to embed", Arity = ArgumentArity.ZeroOrMore };

        var command = new Command("embed", "Embed images and texts; print the dimension and, for two or more, their cosine similarities") { modelOption, jsonOption, queryOption, promptOption, dimensionsOption, imageOption, textsArgument };
        var runtime = new RuntimeOptions();
        runtime.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            string[] texts = parse.GetValue(textsArgument) ?? [];
            string[] imagePaths = parse.GetValue(imageOption) ?? [];
            if (texts.Length == 0 && imagePaths.Length == 0)
            {
                throw new UsageException("embed: nothing to embed; expected one or more texts or --image files.");
            }

            // Each file is read and checked before the model loads, so a bad one costs nothing.
            var images = imagePaths.Select(ReadImage).ToList();
            var options = new OnnxEmbeddingGeneratorOptions { Session = runtime.Session(parse, Configuration.T5RagSettings.Load(console.LoggerFactory)) };
            using var generator = OnnxEmbeddingGenerator.Create(parse.GetValue(modelOption)!, options, console.LoggerFactory);
            var generation = new EmbeddingGenerationOptions { Dimensions = parse.GetValue(dimensionsOption) }.WithInputKind(parse.GetValue(queryOption) ? EmbeddingInputKind.Query : EmbeddingInputKind.Passage);
            if (parse.GetValue(promptOption) is { } prompt)
            {
                generation = generation.WithPromptName(prompt);
            }

            if (images.Count > 0)
            {
                generator.Model.RequireVision();
            }

            // Images first, then texts, as the command line lists them.
            var embeddings = images.Count == 0 ? [] : (await generator.GenerateAsync(images, generation, cancellationToken)).ToList();
            embeddings.AddRange(texts.Length == 0 ? [] : await generator.GenerateAsync(texts, generation, cancellationToken));
            string[] labels = [.. imagePaths.Select(p => "image " + Path.GetFileName(p)), .. texts];

            if (parse.GetValue(jsonOption))
            {
                await console.Out.WriteLineAsync(CliJson.Serialize(embeddings.Select(e => e.Vector.ToArray())));
                return ExitCodes.Success;
            }

            // Truncated inputs are the generator's own warning (on stderr unless --quiet).
            await console.Out.WriteLineAsync($"dimensions: {embeddings[0].Vector.Length}");
            if (labels.Length >= 2)
            {
                string[] headers = ["", .. labels.Select((_, i) => $"[{i}]")];
                var rows = labels.Select((text, i) => (string[])[
                    $"[{i}] {(text.Length > 40 ? text[..40] + "…" : text)}",
                    .. embeddings.Select(other => TensorPrimitives.CosineSimilarity(embeddings[i].Vector.Span, other.Vector.Span).ToString("F4", CultureInfo.InvariantCulture))]);
                console.WriteTable("cosine similarity", headers, rows);
            }

            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>An image file as content for the generator: its bytes, the media type their signature says, named by its path.</summary>
    private static DataContent ReadImage(string path)
    {
        byte[] data;
        try
        {
            data = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ImageFileException(path, $"cannot be read ({ex.Message}); expected an image file.", ex);
        }

        string mediaType = ImageFormats.Sniff(data) ?? throw new ImageFileException(path, data.Length == 0 ? "is empty; expected an image file." : "is not a PNG, JPEG, WebP, GIF or BMP image.");
        return new DataContent(data, mediaType) { Name = path };
    }
}
