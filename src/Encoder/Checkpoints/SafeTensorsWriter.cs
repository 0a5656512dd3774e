using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace T5Gemma2.Rag.Encoder.Checkpoints;

/// <summary>
/// Writes float tensors to a safetensors file as BF16 (round to nearest even) or F32. Each tensor's values are
/// produced when it is written, so a checkpoint larger than memory needs only one tensor at a time.
/// </summary>
public static class SafeTensorsWriter
{
    public static void Write(string path, IReadOnlyList<(string Name, long[] Shape, Func<float[]> Values)> tensors, string dataType)
    {
        int size = dataType switch
        {
            "BF16" => 2,
            "F32" => 4,
            _ => throw new ArgumentException($"dtype {dataType}; expected BF16 or F32.", nameof(dataType)),
        };

        // The header lists tensors in name order with consecutive offsets, as the Python library writes them.
        var ordered = tensors.OrderBy(t => t.Name, StringComparer.Ordinal).ToList();
        var header = new Dictionary<string, object>(StringComparer.Ordinal) { ["__metadata__"] = new Dictionary<string, string> { ["format"] = "pt" } };
        long offset = 0;
        foreach (var (name, shape, _) in ordered)
        {
            long bytes = TensorData.CountElements(shape) * size;
            header[name] = new { dtype = dataType, shape, data_offsets = new[] { offset, offset + bytes } };
            offset += bytes;
        }

        byte[] json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        int padding = (8 - json.Length % 8) % 8;
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        stream.Write(BitConverter.GetBytes((long)(json.Length + padding)));
        stream.Write(json);
        stream.Write(Encoding.ASCII.GetBytes(new string(' ', padding)));
        var buffer = new byte[1 << 16];
        foreach (var (name, shape, produce) in ordered)
        {
            float[] values = produce();
            if (values.LongLength != TensorData.CountElements(shape))
            {
                throw new InvalidOperationException($"tensor '{name}' produced {values.LongLength} values for shape [{string.Join(", ", shape)}].");
            }

            if (size == 4)
            {
                TensorData.WriteFloats(stream, values);
                continue;
            }

            for (int start = 0; start < values.Length; start += buffer.Length / 2)
            {
                int count = Math.Min(buffer.Length / 2, values.Length - start);
                var target = MemoryMarshal.Cast<byte, ushort>(buffer.AsSpan(0, count * 2));
                for (int i = 0; i < count; i++)
                {
                    target[i] = ToBFloat16(values[start + i]);
                }

                stream.Write(buffer, 0, count * 2);
            }
        }
    }

    /// <summary>float32 → bfloat16 bits, rounding to nearest even (NaN kept as a quiet NaN).</summary>
    public static ushort ToBFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
        {
            return (ushort)((bits >> 16) | 0x40);
        }

        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }
}
