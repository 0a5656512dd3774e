using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using T5Gemma2.Rag.Encoder.Checkpoints;
using T5Gemma2.Rag.Encoder.Models;

namespace T5Gemma2.Rag.Encoder.Conversion;

/// <summary>
/// Converts a Hugging Face T5Gemma 2 checkpoint, a standalone T5Gemma 2 encoder or a bidirectional Gemma 3
/// (EmbeddingGemma) — config.json + safetensors, with sentence-transformers modules when the repository has them — into a model directory of ONNX graphs in
/// the Optimum / transformers.js layout (<c>onnx/encoder_model.onnx</c>), with config.json, the tokenizer files and
/// our manifest beside them. Every tensor and shape is checked before anything is written, and the output appears
/// only when complete: the work happens in a sibling directory that is moved into place at the end, or removed.
/// </summary>
public static class CheckpointConverter
{
    /// <exception cref="ModelFileException">The checkpoint is missing a file or tensor, a shape contradicts config.json, or the output directory is not empty.</exception>
    public static ConversionResult Convert(string checkpointDirectory, string outputDirectory, WeightFormat weights = WeightFormat.Fp32, IProgress<string>? progress = null, CancellationToken cancellationToken = default) =>
        Convert(checkpointDirectory, outputDirectory, weights, progress, ExternalDataThreshold, cancellationToken);

    /// <summary>
    /// Graphs with more weight bytes than this keep them in <c>encoder_model.onnx_data</c>. Protobuf cannot hold 2 GB,
    /// and ONNX Runtime memory-maps external data: the 270m encoder then peaks at 0.7 GB RSS instead of 2.0 GB.
    /// </summary>
    public const long ExternalDataThreshold = 64L * 1024 * 1024;

    /// <param name="externalDataThreshold">Weights above this many bytes go to <c>encoder_model.onnx_data</c>.</param>
    internal static ConversionResult Convert(string checkpointDirectory, string outputDirectory, WeightFormat weights, IProgress<string>? progress, long externalDataThreshold, CancellationToken cancellationToken = default)
    {
        var stopwatch = Stopwatch.StartNew();
        string source = Path.GetFullPath(checkpointDirectory);
        string target = Path.GetFullPath(outputDirectory);
        if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any())
        {
            throw new ModelFileException(target, "is not empty; expected a new or empty directory for the converted model.");
        }

        var config = T5Gemma2Config.Read(Path.Combine(source, "config.json"));
        var modules = SentenceTransformerModules.Read(source, config.Encoder.HiddenSize);
        foreach (var dense in modules?.Dense ?? [])
        {
            _ = DenseModuleWeights.Load(dense); // every name and shape checked before anything is written
        }

        using var checkpoint = SafeTensorsCheckpoint.Open(source);
        var encoder = T5Gemma2StackWeights.ForEncoder(checkpoint, config);
        // The encoder's int4 keeps its most sensitive layers in 8 bits; the decoder's stays int4 throughout, where
        // 8-bit MatMulNBits would slow every one-row step.
        var (encoderLinear, decoderLinear) = weights == WeightFormat.Fp32
            ? (LinearWeights.Float32, LinearWeights.Float32)
            : (BlockQuantizedLinear.ForEncoder(weights), BlockQuantizedLinear.For(weights));
        progress?.Report($"checked {T5Gemma2StackWeights.ExpectedTensors(config.Encoder, withEmbedding: true, config.Architecture).Count()} encoder tensors against config.json");

        // A checkpoint without a vision tower converts text-only; one with a partial tower is refused here.
        // A t5gemma2_text config describes the text stack alone, so a tower beside it is left out rather than refused.
        bool textConfig = config.ModelType == "t5gemma2_text";
        var vision = config.Architecture == EncoderArchitecture.T5Gemma2 && !textConfig ? T5Gemma2VisionWeights.Find(checkpoint, config.Vision, config.FilePath) : null;
        progress?.Report(vision is null
            ? textConfig ? "config.json is a t5gemma2_text config: converting text-only" : "no vision tower in the checkpoint: converting text-only"
            : $"checked {T5Gemma2VisionWeights.ExpectedTensors(vision.Config).Count()} vision tower and projector tensors against config.json");

        // Encoder-only checkpoints (and t5gemma2_encoder configs) convert to an embedding model without decoder graphs.
        bool hasDecoder = config.Decoder is not null
            && (checkpoint.TryGet("model.decoder.layers.0.self_attn.q_proj.weight", out _) || checkpoint.TryGet("decoder.layers.0.self_attn.q_proj.weight", out _));
        var decoder = hasDecoder ? T5Gemma2StackWeights.ForDecoder(checkpoint, config) : null;
        if (decoder is not null && weights == WeightFormat.Int8)
        {
            // Checked above, written never: ONNX Runtime's 8-bit MatMulNBits has no fast one-token kernel.
            progress?.Report($"int8: the decoder graphs are not written ({DecoderGraphNames.Int8GenerationRefusal})");
            decoder = null;
        }

        if (decoder is not null)
        {
            progress?.Report($"checked {T5Gemma2StackWeights.ExpectedTensors(decoder.Config, withEmbedding: false).Count()} decoder tensors against config.json");
        }

        return StagedDirectory.Write(target, staging =>
        {
            Directory.CreateDirectory(Path.Combine(staging, "onnx"));

            // With a decoder, the tied embedding is written once, in its own file that both graphs reference, so a
            // runtime can hold one copy for the encoder and the decoder (Seq2SeqGenerator does).
            string? sharedEmbedding = null;
            if (decoder is not null)
            {
                sharedEmbedding = EncoderGraphNames.SharedEmbeddingFile;
                using var file = new FileStream(Path.Combine(staging, "onnx", EncoderGraphNames.SharedEmbeddingFile), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
                TensorData.WriteFloats(file, encoder.Read("embed_tokens.weight"));
            }

            var graph = T5Gemma2EncoderGraphBuilder.Build(config, encoder, encoderLinear, sharedEmbedding);
            progress?.Report($"writing {EncoderGraphNames.GraphFile} ({graph.InitializerBytes / 1048576.0:F0} MiB of weights, {encoderLinear.Name})");
            graph.Save(Path.Combine(staging, EncoderGraphNames.GraphFile), externalDataThreshold, cancellationToken);
            long weightBytes = graph.InitializerBytes + (sharedEmbedding is null ? 0 : 4L * config.Encoder.VocabSize * config.Encoder.HiddenSize);
            var graphs = new JsonObject { ["encoder"] = EncoderGraphNames.GraphFile };
            if (vision is not null)
            {
                // The tower's layers quantize uniformly: none of them has the text encoder's first-layer sensitivity.
                var visionGraph = T5Gemma2VisionGraphBuilder.Build(vision, weights == WeightFormat.Fp32 ? LinearWeights.Float32 : BlockQuantizedLinear.ForVisionTower(weights));
                progress?.Report($"writing {VisionGraphNames.GraphFile} ({visionGraph.InitializerBytes / 1048576.0:F0} MiB of weights, {encoderLinear.Name})");
                visionGraph.Save(Path.Combine(staging, VisionGraphNames.GraphFile), externalDataThreshold, cancellationToken);
                graphs[VisionGraphNames.ManifestKey] = VisionGraphNames.GraphFile;
                weightBytes += visionGraph.InitializerBytes;
            }

            if (decoder is not null)
            {
                var cross = T5Gemma2DecoderGraphBuilder.BuildCrossCache(config, decoder, encoder, decoderLinear);
                cross.Save(Path.Combine(staging, DecoderGraphNames.CrossCacheFile), externalDataThreshold, cancellationToken);
                var step = T5Gemma2DecoderGraphBuilder.BuildStep(config, decoder, encoder, decoderLinear, sharedEmbedding);
                progress?.Report($"writing {DecoderGraphNames.StepFile} and {DecoderGraphNames.CrossCacheFile} ({(step.InitializerBytes + cross.InitializerBytes) / 1048576.0:F0} MiB of weights)");
                step.Save(Path.Combine(staging, DecoderGraphNames.StepFile), externalDataThreshold, cancellationToken);
                graphs["decoder"] = DecoderGraphNames.StepFile;
                graphs["decoder_cross_cache"] = DecoderGraphNames.CrossCacheFile;
                weightBytes += step.InitializerBytes + cross.InitializerBytes;
            }

            File.Copy(Path.Combine(source, "config.json"), Path.Combine(staging, "config.json"));
            foreach (string file in new[] { "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json", SentenceTransformerPrompts.FileName })
            {
                if (File.Exists(Path.Combine(source, file)))
                {
                    File.Copy(Path.Combine(source, file), Path.Combine(staging, file));
                }
            }

            // A sentence-transformers repository's modules (pooling, Dense, Normalize) and prompts travel as they are:
            // the model directory reads them as sentence-transformers does, so there is one reader for every layout.
            modules?.CopyTo(staging);

            var manifest = new JsonObject
            {
                ["format"] = "t5rag-onnx",
                ["format_version"] = 2, // 2: the decoder's merged caches (DecoderGraphNames)
                ["model_type"] = config.ModelType,
                ["weights"] = encoderLinear.Name,
                // The checkpoint's name only: a local path says nothing on another machine and leaks the user's layout.
                ["converted_from"] = config.ModelName ?? Path.GetFileName(source),
                ["graphs"] = graphs,
            };
            if (modules is null)
            {
                // A plain checkpoint says nothing about pooling: mean over the encoder's states, unit length.
                manifest["pooling"] = "mean";
                manifest["normalize"] = true;
            }

            File.WriteAllText(Path.Combine(staging, ModelDirectory.ManifestFileName), manifest.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return new ConversionResult(target, Path.Combine(target, EncoderGraphNames.GraphFile), weightBytes, stopwatch.Elapsed);
        });
    }
}
