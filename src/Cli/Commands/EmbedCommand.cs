using System.CommandLine;
using System.Globalization;
using System.Numerics.Tensors;
using System.Text.Json;
using Microsoft.Extensions.AI;
using T5Gemma2.Rag.Cli.Console;
using T5Gemma2.Rag.Encoder.Embeddings;

namespace T5Gemma2.Rag.Cli.Commands;

/// <summary><c>t5rag embed</c>: embeds texts and prints the dimension and their cosine matrix, or the vectors as JSON.</summary>
internal static class EmbedCommand
{
    public static Command Create(CliConsole console)
    {
        var modelOption = new Option<string>("--model", "-m") { Description = "A model directory (T5Gemma 2 conversion or sentence-transformers ONNX export)", Required = true };
        var jsonOption = new Option<bool>("--json") { Description = "Print the vectors as JSON" };
        var queryOption = new Option<bool>("--query") { Description = "Embed the texts as queries (the model's query prompt)" };
        var promptOption = new Option<string?>("--prompt") { Description = "Embed with the model's prompt of this name (config_sentence_transformers.json, e.g. Clustering or STS)" };
        var dimensionsOption = new Option<int?>("--dimensions") { Description = "Fewer dimensions: the vectors' leading components, renormalised (Matryoshka)" };
        var textsArgument = new Argument<string[]>("texts") { Description = "Texts to embed", Arity = ArgumentArity.OneOrMore };

        var command = new Command("embed", "Embed texts; print the dimension and, for two or more, their cosine similarities") { modelOption, jsonOption, queryOption, promptOption, dimensionsOption, textsArgument };
        var runtime = new RuntimeOptions();
        runtime.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            string[] texts = parse.GetValue(textsArgument)!;
            var options = new OnnxEmbeddingGeneratorOptions { Session = runtime.Session(parse, Configuration.T5RagSettings.Load(console.LoggerFactory)) };
            using var generator = OnnxEmbeddingGenerator.Create(parse.GetValue(modelOption)!, options, console.LoggerFactory);
            var generation = new EmbeddingGenerationOptions { Dimensions = parse.GetValue(dimensionsOption) }.WithInputKind(parse.GetValue(queryOption) ? EmbeddingInputKind.Query : EmbeddingInputKind.Passage);
            if (parse.GetValue(promptOption) is { } prompt)
            {
                generation = generation.WithPromptName(prompt);
            }

            var embeddings = await generator.GenerateAsync(texts, generation, cancellationToken);

            if (parse.GetValue(jsonOption))
            {
                await console.Out.WriteLineAsync(CliJson.Serialize(embeddings.Select(e => e.Vector.ToArray())));
                return ExitCodes.Success;
            }

            // Truncated inputs are the generator's own warning (on stderr unless --quiet).
            await console.Out.WriteLineAsync($"dimensions: {embeddings[0].Vector.Length}");
            if (texts.Length >= 2)
            {
                string[] headers = ["", .. texts.Select((_, i) => $"[{i}]")];
                var rows = texts.Select((text, i) => (string[])[
                    $"[{i}] {(text.Length > 40 ? text[..40] + "…" : text)}",
                    .. embeddings.Select(other => TensorPrimitives.CosineSimilarity(embeddings[i].Vector.Span, other.Vector.Span).ToString("F4", CultureInfo.InvariantCulture))]);
                console.WriteTable("cosine similarity", headers, rows);
            }

            return ExitCodes.Success;
        });
        return command;
    }
}
