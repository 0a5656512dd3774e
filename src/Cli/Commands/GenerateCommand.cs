using System.CommandLine;
using T5Gemma2.Rag.Cli.Console;
using T5Gemma2.Rag.Encoder.Generation;

namespace T5Gemma2.Rag.Cli.Commands;

/// <summary><c>t5rag generate</c>: streams the decoder's answer to an input text to the terminal.</summary>
internal static class GenerateCommand
{
    public static Command Create(CliConsole console)
    {
        var model = new Option<string>("--model", "-m") { Description = "A converted T5Gemma 2 model directory (with decoder graphs)", Required = true };
        var maxNewTokens = new Option<int>("--max-new-tokens") { Description = "Most tokens to generate", DefaultValueFactory = _ => 128 };
        var sample = new Option<bool>("--sample") { Description = "Sample instead of greedy decoding" };
        var temperature = new Option<float>("--temperature") { Description = "Sampling temperature (> 0)", DefaultValueFactory = _ => 1f };
        var topP = new Option<float>("--top-p") { Description = "Nucleus sampling mass, in (0, 1]", DefaultValueFactory = _ => 1f };
        var topK = new Option<int>("--top-k") { Description = "Sample among the k most likely tokens (0: all)" };
        var seed = new Option<int?>("--seed") { Description = "Seed for reproducible samples" };
        var beams = new Option<int>("--beams") { Description = "Beam search with this many beams (no streaming: the answer prints at the end)", DefaultValueFactory = _ => 1 };
        var repetition = new Option<float>("--repetition-penalty") { Description = "transformers' repetition penalty (1: off)", DefaultValueFactory = _ => 1f };
        var stop = new Option<string[]>("--stop") { Description = "Stop sequences", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [] };
        var images = new Option<string[]>("--image") { Description = "An image file the decoder answers over (repeatable; the images come first in the encoder input, then the text)", DefaultValueFactory = _ => [] };
        var input = new Argument<string>("input") { Description = "The encoder input text" };
        var command = new Command("generate", "Generate text with the decoder, streamed as it is produced") { model, maxNewTokens, sample, temperature, topP, topK, seed, beams, repetition, stop, images, input };
        var runtime = new RuntimeOptions();
        runtime.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            GenerationOptions options;
            try
            {
                options = new GenerationOptions
                {
                    MaxNewTokens = parse.GetValue(maxNewTokens),
                    Sample = parse.GetValue(sample),
                    Temperature = parse.GetValue(temperature),
                    TopP = parse.GetValue(topP),
                    TopK = parse.GetValue(topK),
                    Seed = parse.GetValue(seed),
                    NumBeams = parse.GetValue(beams),
                    RepetitionPenalty = parse.GetValue(repetition),
                    StopSequences = parse.GetValue(stop)!,
                };
                options.Validate();
            }
            catch (ArgumentException ex)
            {
                await console.Error.WriteLineAsync($"t5rag generate: {ex.Message.Split('\n')[0].Split(" (Parameter")[0]}");
                return ExitCodes.UsageError;
            }

            using var generator = Seq2SeqGenerator.Create(parse.GetValue(model)!, runtime.Session(parse, Configuration.T5RagSettings.Load(console.LoggerFactory)));
            var encoderInput = generator.CreateInput(parse.GetValue(input)!, [.. parse.GetValue(images)!.Select(path => generator.LoadImage(path, cancellationToken))]);
            if (options.NumBeams > 1)
            {
                var result = (await generator.GenerateAsync([encoderInput], options, cancellationToken))[0];
                await console.Out.WriteLineAsync(result.Text);
                await console.Error.WriteLineAsync($"{result.TokenIds.Count} tokens, {result.FinishReason}");
                return ExitCodes.Success;
            }

            await foreach (string delta in generator.GenerateStreamingAsync(encoderInput, options, cancellationToken))
            {
                await console.Out.WriteAsync(delta);
                await console.Out.FlushAsync(cancellationToken);
            }

            await console.Out.WriteLineAsync();
            return ExitCodes.Success;
        });
        return command;
    }
}
