using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using T5Gemma2.Rag.Cli.Console;
using T5Gemma2.Rag.Encoder.Checkpoints;
using T5Gemma2.Rag.Encoder.Conversion;
using T5Gemma2.Rag.Encoder.Hub;

namespace T5Gemma2.Rag.Cli.Commands;

/// <summary><c>t5rag model</c>: convert Hugging Face checkpoints to ONNX, and create random checkpoints of the real architecture.</summary>
internal static class ModelCommand
{
    public static Command Create(CliConsole console)
    {
        var model = new Command("model", "Convert T5Gemma 2 checkpoints and create random ones");
        model.Subcommands.Add(CreateConvert(console));
        model.Subcommands.Add(CreateRandom(console));
        model.Subcommands.Add(CreatePull(console));
        return model;
    }

    private static Command CreateConvert(CliConsole console)
    {
        var source = new Argument<string>("hf-checkpoint-dir") { Description = "A Hugging Face checkpoint directory (config.json, *.safetensors, tokenizer files)" };
        var target = new Argument<string>("out-dir") { Description = "Where the ONNX model directory is written (must be new or empty)" };
        var weights = new Option<string>("--weights") { Description = "Weight format of linear layers: fp32, int8 or int4", DefaultValueFactory = _ => "fp32" };
        var command = new Command("convert", "Convert a Hugging Face T5Gemma 2 checkpoint into ONNX graphs (onnx/encoder_model.onnx)") { source, target, weights };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (!TryParseWeights(parse.GetValue(weights)!, out var weightFormat))
            {
                await console.Error.WriteLineAsync($"t5rag model convert: --weights is \"{parse.GetValue(weights)}\"; expected fp32, int8 or int4.");
                return ExitCodes.UsageError;
            }

            long peakBefore = Process.GetCurrentProcess().PeakWorkingSet64;
            var result = await console.RunWithStatusAsync("converting", () => Task.FromResult(
                CheckpointConverter.Convert(parse.GetValue(source)!, parse.GetValue(target)!, weightFormat, new Progress<string>(line => console.Error.WriteLine(line)), cancellationToken)));
            long peak = Process.GetCurrentProcess().PeakWorkingSet64;
            await console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"wrote {result.OutputDirectory} ({result.WeightBytes / 1048576.0:F0} MiB of {weightFormat.ToString().ToLowerInvariant()} weights) in {result.Elapsed.TotalSeconds:F1} s; peak memory {Math.Max(peak, peakBefore) / 1048576.0:F0} MiB"));
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command CreatePull(CliConsole console)
    {
        var id = new Argument<string>("hf-model-id") { Description = "A Hub model id, e.g. google/t5gemma-2-270m-270m" };
        var revision = new Option<string>("--revision") { Description = "Branch, tag or commit", DefaultValueFactory = _ => "main" };
        var output = new Option<string?>("--out") { Description = "Where the converted model goes (default: ./<name>-onnx)" };
        var weights = new Option<string>("--weights") { Description = "fp32, int8 or int4", DefaultValueFactory = _ => "fp32" };
        var cache = new Option<string?>("--cache-dir") { Description = "Where downloads are kept and resumed (default: $T5RAG_CACHE or ~/.cache/t5rag/hub)" };
        var endpoint = new Option<string?>("--endpoint") { Description = "The Hub or a mirror (default: $HF_ENDPOINT or https://huggingface.co)" };
        var command = new Command("pull", "Download a checkpoint from the Hugging Face Hub (HF_TOKEN for gated models; resumes) and convert it") { id, revision, output, weights, cache, endpoint };
        command.SetAction(async (parse, cancellationToken) =>
        {
            string repository = parse.GetValue(id)!;
            if (!TryParseWeights(parse.GetValue(weights)!, out var weightFormat))
            {
                await console.Error.WriteLineAsync($"t5rag model pull: --weights is \"{parse.GetValue(weights)}\"; expected fp32, int8 or int4.");
                return ExitCodes.UsageError;
            }

            if (repository.Split('/') is not [{ Length: > 0 }, { Length: > 0 }])
            {
                await console.Error.WriteLineAsync($"t5rag model pull: \"{repository}\" is not a model id; expected owner/name, e.g. google/t5gemma-2-270m-270m.");
                return ExitCodes.UsageError;
            }

            string name = repository.Split('/')[1];
            string cacheRoot = parse.GetValue(cache) ?? Environment.GetEnvironmentVariable("T5RAG_CACHE")
                ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "t5rag", "hub");
            string download = Path.Combine(cacheRoot, repository.Replace('/', '-') + "--" + parse.GetValue(revision));
            var options = parse.GetValue(endpoint) is { } url ? new HuggingFaceHubOptions { Endpoint = new Uri(url.EndsWith('/') ? url : url + "/") } : new HuggingFaceHubOptions();
            using var client = new HuggingFaceHubClient(options);
            string? lastFile = null;
            var progress = new Progress<(string File, long Bytes, long? Size)>(p =>
            {
                // Plain lines: one when a file starts and one when it ends (a terminal shows the spinner meanwhile).
                if (p.File != lastFile)
                {
                    lastFile = p.File;
                    console.Error.WriteLine($"downloading {p.File}{(p.Size is long total ? $" ({total / 1048576.0:F1} MiB)" : "")}");
                }
            });
            string commit = await console.RunWithStatusAsync($"downloading {repository}@{parse.GetValue(revision)}", () =>
                CheckpointDownloader.DownloadAsync(client, repository, parse.GetValue(revision)!, download, progress, cancellationToken));
            var result = CheckpointConverter.Convert(download, parse.GetValue(output) ?? name + "-onnx", weightFormat, new Progress<string>(line => console.Error.WriteLine(line)), cancellationToken);
            await console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"pulled {repository}@{commit[..Math.Min(12, commit.Length)]} into {download}; converted to {result.OutputDirectory} in {result.Elapsed.TotalSeconds:F1} s"));
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>fp32, int8 or int4, in any case; nothing else.</summary>
    private static bool TryParseWeights(string value, out WeightFormat format)
    {
        format = value.ToLowerInvariant() switch
        {
            "fp32" => WeightFormat.Fp32,
            "int8" => WeightFormat.Int8,
            "int4" => WeightFormat.Int4,
            _ => (WeightFormat)(-1),
        };
        return Enum.IsDefined(format);
    }

    private static Command CreateRandom(CliConsole console)
    {
        var layout = new Option<string>("--layout") { Description = "t5gemma2 (encoder-decoder), st-t5gemma2-encoder (a sentence-transformers standalone encoder) or embeddinggemma", DefaultValueFactory = _ => "t5gemma2" };
        var preset = new Option<string>("--preset") { Description = "t5gemma2 layouts: tiny, 270m-270m, 1b-1b or 4b-4b; embeddinggemma: tiny or 300m", Required = true };
        var seed = new Option<int>("--seed") { Description = "Seed of the random weights", DefaultValueFactory = _ => 0 };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "A directory with tokenizer.json (and tokenizer_config.json) to copy into the checkpoint" };
        var target = new Argument<string>("out-dir") { Description = "Where the checkpoint is written (must be new or empty)" };
        var command = new Command("create-random", "Write a checkpoint of a real architecture and repository layout with seeded random weights") { layout, preset, seed, tokenizer, target };
        command.SetAction(async (parse, cancellationToken) =>
        {
            string layoutName = parse.GetValue(layout)!;
            RandomLayout? chosenLayout = layoutName.ToLowerInvariant() switch
            {
                "t5gemma2" => RandomLayout.T5Gemma2,
                "st-t5gemma2-encoder" => RandomLayout.SentenceTransformersT5Gemma2Encoder,
                "embeddinggemma" => RandomLayout.EmbeddingGemma,
                _ => null,
            };
            if (chosenLayout is not { } shape)
            {
                await console.Error.WriteLineAsync($"t5rag model create-random: --layout is \"{layoutName}\"; expected t5gemma2, st-t5gemma2-encoder or embeddinggemma.");
                return ExitCodes.UsageError;
            }

            string name = parse.GetValue(preset)!;
            if (T5Gemma2Preset.Find(name, shape) is not { } chosen)
            {
                await console.Error.WriteLineAsync($"t5rag model create-random: --preset is \"{name}\"; expected one of {string.Join(", ", T5Gemma2Preset.For(shape).Select(p => p.Name))} for --layout {layoutName}.");
                return ExitCodes.UsageError;
            }

            var stopwatch = Stopwatch.StartNew();
            await console.RunWithStatusAsync($"writing the {chosen.Name} checkpoint", () =>
            {
                RandomCheckpoint.Create(shape, chosen, parse.GetValue(seed), parse.GetValue(target)!, parse.GetValue(tokenizer), cancellationToken);
                return Task.FromResult(0);
            });
            await console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"wrote {Path.GetFullPath(parse.GetValue(target)!)} ({layoutName} {chosen.Name}, seed {parse.GetValue(seed)}) in {stopwatch.Elapsed.TotalSeconds:F1} s"));
            return ExitCodes.Success;
        });
        return command;
    }
}
