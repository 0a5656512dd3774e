using System.Text.Json;
using T5Gemma2.Rag.Encoder.Models;

namespace T5Gemma2.Rag.Encoder.Checkpoints;

/// <summary>
/// The weights of a Hugging Face checkpoint directory: one <c>model.safetensors</c>, or shards listed by
/// <c>model.safetensors.index.json</c> (or, failing both, every <c>*.safetensors</c> in the directory).
/// </summary>
public sealed class SafeTensorsCheckpoint : IDisposable
{
    private readonly List<SafeTensorsFile> _files;
    private readonly Dictionary<string, (SafeTensorsFile File, SafeTensorInfo Info)> _tensors = new(StringComparer.Ordinal);

    private SafeTensorsCheckpoint(string directory, List<SafeTensorsFile> files)
    {
        this.Directory = directory;
        this._files = files;
        foreach (var file in files)
        {
            foreach (var (name, info) in file.Tensors)
            {
                this._tensors[name] = (file, info);
            }
        }
    }

    public string Directory { get; }

    public IEnumerable<string> Names => this._tensors.Keys;

    /// <exception cref="ModelFileException">No safetensors file is found, the index names a missing shard, or a file is corrupt.</exception>
    public static SafeTensorsCheckpoint Open(string directory)
    {
        string index = Path.Combine(directory, "model.safetensors.index.json");
        IEnumerable<string> paths;
        if (File.Exists(index))
        {
            var root = ConfigFile.Read(index, required: true, "a safetensors index")!.Value;
            if (!root.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
            {
                throw new ModelFileException(index, "has no \"weight_map\"; expected tensor name → shard file.");
            }

            var shards = new HashSet<string>(StringComparer.Ordinal);
            foreach (var entry in map.EnumerateObject())
            {
                string? shard = entry.Value.ValueKind == JsonValueKind.String ? entry.Value.GetString() : null;
                if (string.IsNullOrEmpty(shard) || shard.Contains("..", StringComparison.Ordinal) || Path.IsPathRooted(shard))
                {
                    throw new ModelFileException(index, $"weight_map entry '{entry.Name}' names {entry.Value.GetRawText()}; expected a shard file name inside the checkpoint directory.");
                }

                shards.Add(shard);
            }

            paths = [.. shards.Select(f => Path.Combine(directory, f))];
            foreach (string shard in paths.Where(p => !File.Exists(p)))
            {
                throw new ModelFileException(shard, "not found; model.safetensors.index.json lists it as a shard.");
            }
        }
        else
        {
            paths = System.IO.Directory.Exists(directory)
                ? System.IO.Directory.EnumerateFiles(directory, "*.safetensors").Order(StringComparer.Ordinal).ToList()
                : throw new ModelFileException(directory, "not found; expected a checkpoint directory (config.json and *.safetensors).");
        }

        var files = new List<SafeTensorsFile>();
        try
        {
            foreach (string path in paths)
            {
                files.Add(SafeTensorsFile.Open(path));
            }
        }
        catch
        {
            files.ForEach(f => f.Dispose());
            throw;
        }

        return files.Count > 0
            ? new SafeTensorsCheckpoint(directory, files)
            : throw new ModelFileException(Path.Combine(directory, "model.safetensors"), "not found; expected the checkpoint's weights as safetensors.");
    }

    /// <summary>
    /// Checks that every expected tensor is there with its shape and a float dtype the converter reads, before anything
    /// is written; the first problem (and how many more) is one line, checked against <paramref name="against"/>.
    /// </summary>
    /// <exception cref="ModelFileException">A tensor is missing, has another shape, or is not BF16, F16 or F32.</exception>
    internal void RequireTensors(IEnumerable<(string Name, long[] Shape)> expected, string against)
    {
        var problems = new List<string>();
        foreach (var (name, shape) in expected)
        {
            if (!this.TryGet(name, out var info))
            {
                problems.Add($"tensor '{name}' is missing (expected shape [{string.Join(", ", shape)}])");
            }
            else if (!info.Shape.SequenceEqual(shape))
            {
                problems.Add($"tensor '{name}' has shape {info.ShapeText}; config.json implies [{string.Join(", ", shape)}]");
            }
            else if (info.DataType is not ("BF16" or "F16" or "F32"))
            {
                problems.Add($"tensor '{name}' is {info.DataType}; expected BF16, F16 or F32");
            }
        }

        if (problems.Count > 0)
        {
            string more = problems.Count > 1 ? $" (and {problems.Count - 1} more problems)" : "";
            throw new ModelFileException(this.Directory, $"{problems[0]}{more}; checked against {against}.");
        }
    }

    public bool TryGet(string name, out SafeTensorInfo info)
    {
        bool found = this._tensors.TryGetValue(name, out var entry);
        info = entry.Info;
        return found;
    }

    /// <summary>Reads a tensor as float32.</summary>
    public float[] ReadFloat32(SafeTensorInfo tensor)
    {
        var result = new float[tensor.ElementCount];
        this._tensors[tensor.Name].File.ReadFloat32(tensor, result);
        return result;
    }

    public void Dispose() => this._files.ForEach(f => f.Dispose());
}

