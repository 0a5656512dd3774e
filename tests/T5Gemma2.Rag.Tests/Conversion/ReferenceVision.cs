using System.Text.Json;
using T5Gemma2.Rag.Encoder.Checkpoints;

namespace T5Gemma2.Rag.Tests.Conversion;

/// <summary>
/// The SigLIP tower and T5Gemma 2's projector in double precision, written from ../shared/docs/t5gemma2-vision.md §1–2
/// and nothing of the production graph builder: the patch convolution as a sum over each 14 × 14 (here 7 × 7) block,
/// LayerNorm with the population variance, softmax attention without a mask, tanh GELU, average pooling, Gemma
/// RMSNorm (1 + w) with the vision eps, and the projection used as stored (x · W). For tiny checkpoints only.
/// </summary>
internal sealed class ReferenceVision
{
    private readonly SafeTensorsCheckpoint _weights;
    private readonly string _tower, _projector;
    private readonly int _imageSize, _patch, _hidden, _layers, _heads, _tokens, _textHidden;
    private readonly double _eps;
    private readonly Dictionary<string, double[]> _cache = [];

    public ReferenceVision(string checkpointDirectory, SafeTensorsCheckpoint weights)
    {
        this._weights = weights;
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(checkpointDirectory, "config.json")));
        var root = document.RootElement;
        bool full = root.GetProperty("model_type").GetString() == "t5gemma2";
        var encoder = full ? root.GetProperty("encoder") : root;
        var vision = encoder.GetProperty("vision_config");
        this._tower = (full ? "model.encoder." : "") + "vision_tower.vision_model.";
        this._projector = (full ? "model.encoder." : "") + "multi_modal_projector.";
        this._imageSize = vision.GetProperty("image_size").GetInt32();
        this._patch = vision.GetProperty("patch_size").GetInt32();
        this._hidden = vision.GetProperty("hidden_size").GetInt32();
        this._layers = vision.GetProperty("num_hidden_layers").GetInt32();
        this._heads = vision.GetProperty("num_attention_heads").GetInt32();
        this._eps = vision.GetProperty("layer_norm_eps").GetDouble();
        this._tokens = encoder.GetProperty("mm_tokens_per_image").GetInt32();
        this._textHidden = encoder.GetProperty("text_config").GetProperty("hidden_size").GetInt32();
    }

    /// <summary>The tower's last_hidden_state for one image (CHW pixel values): [patches][vision hidden].</summary>
    public double[][] Tower(float[] pixels)
    {
        int grid = this._imageSize / this._patch, size = this._imageSize, h = this._hidden;
        double[] kernel = this.W(this._tower + "embeddings.patch_embedding.weight"), kernelBias = this.W(this._tower + "embeddings.patch_embedding.bias");
        double[] position = this.W(this._tower + "embeddings.position_embedding.weight");
        var x = new double[grid * grid][];
        for (int row = 0; row < grid; row++)
        {
            for (int column = 0; column < grid; column++)
            {
                int p = row * grid + column;
                x[p] = new double[h];
                for (int o = 0; o < h; o++)
                {
                    double sum = kernelBias[o];
                    for (int channel = 0; channel < 3; channel++)
                    {
                        for (int i = 0; i < this._patch; i++)
                        {
                            for (int j = 0; j < this._patch; j++)
                            {
                                double pixel = pixels[(channel * size + row * this._patch + i) * size + column * this._patch + j];
                                sum += kernel[((o * 3 + channel) * this._patch + i) * this._patch + j] * pixel;
                            }
                        }
                    }

                    x[p][o] = sum + position[p * h + o];
                }
            }
        }

        for (int layer = 0; layer < this._layers; layer++)
        {
            string p = $"{this._tower}encoder.layers.{layer}.";
            var normed = x.Select(v => this.LayerNorm(v, p + "layer_norm1")).ToArray();
            var attended = this.Attention(normed, p + "self_attn.");
            for (int t = 0; t < x.Length; t++)
            {
                ReferenceEncoder.Add(x[t], this.Linear(attended[t], p + "self_attn.out_proj"));
            }

            for (int t = 0; t < x.Length; t++)
            {
                var m = this.Linear(this.LayerNorm(x[t], p + "layer_norm2"), p + "mlp.fc1").Select(ReferenceEncoder.GeluTanh).ToArray();
                ReferenceEncoder.Add(x[t], this.Linear(m, p + "mlp.fc2"));
            }
        }

        return [.. x.Select(v => this.LayerNorm(v, this._tower + "post_layernorm"))];
    }

    /// <summary>The projector's output for one image: [tokens per image][text hidden].</summary>
    public double[][] Features(float[] pixels)
    {
        var patches = this.Tower(pixels);
        int grid = this._imageSize / this._patch, side = (int)Math.Round(Math.Sqrt(this._tokens)), kernel = grid / side, h = this._hidden;
        double[] norm = this.W(this._projector + "mm_soft_emb_norm.weight"), projection = this.W(this._projector + "mm_input_projection_weight");
        var features = new double[this._tokens][];
        for (int r = 0; r < side; r++)
        {
            for (int c = 0; c < side; c++)
            {
                var pooled = new double[h];
                for (int i = 0; i < kernel; i++)
                {
                    for (int j = 0; j < kernel; j++)
                    {
                        ReferenceEncoder.Add(pooled, patches[(r * kernel + i) * grid + c * kernel + j]);
                    }
                }

                double rms = 0;
                for (int k = 0; k < h; k++)
                {
                    pooled[k] /= kernel * kernel;
                    rms += pooled[k] * pooled[k];
                }

                rms = Math.Sqrt(rms / h + this._eps);
                var output = new double[this._textHidden];
                for (int k = 0; k < h; k++)
                {
                    double value = pooled[k] / rms * (1 + norm[k]);
                    for (int o = 0; o < this._textHidden; o++)
                    {
                        output[o] += value * projection[k * this._textHidden + o];
                    }
                }

                features[r * side + c] = output;
            }
        }

        return features;
    }

    private double[][] Attention(double[][] x, string p)
    {
        int n = x.Length, d = this._hidden / this._heads;
        var q = x.Select(v => this.Linear(v, p + "q_proj")).ToArray();
        var k = x.Select(v => this.Linear(v, p + "k_proj")).ToArray();
        var v = x.Select(v => this.Linear(v, p + "v_proj")).ToArray();
        var output = new double[n][];
        for (int t = 0; t < n; t++)
        {
            output[t] = new double[this._hidden];
            for (int head = 0; head < this._heads; head++)
            {
                var scores = new double[n];
                for (int s = 0; s < n; s++)
                {
                    double dot = 0;
                    for (int i = 0; i < d; i++)
                    {
                        dot += q[t][head * d + i] * k[s][head * d + i];
                    }

                    scores[s] = dot / Math.Sqrt(d);
                }

                double max = scores.Max();
                double[] weights = [.. scores.Select(score => Math.Exp(score - max))];
                double total = weights.Sum();
                for (int s = 0; s < n; s++)
                {
                    for (int i = 0; i < d; i++)
                    {
                        output[t][head * d + i] += weights[s] / total * v[s][head * d + i];
                    }
                }
            }
        }

        return output;
    }

    private double[] LayerNorm(double[] x, string norm)
    {
        double mean = x.Average(), variance = x.Select(v => (v - mean) * (v - mean)).Average();
        double[] weight = this.W(norm + ".weight"), bias = this.W(norm + ".bias");
        return [.. x.Select((v, i) => (v - mean) / Math.Sqrt(variance + this._eps) * weight[i] + bias[i])];
    }

    /// <summary>W · x + b for a Hugging Face Linear (weight [out, in]).</summary>
    private double[] Linear(double[] x, string layer)
    {
        double[] weight = this.W(layer + ".weight"), bias = this.W(layer + ".bias");
        var output = new double[bias.Length];
        for (int o = 0; o < output.Length; o++)
        {
            double sum = bias[o];
            for (int i = 0; i < x.Length; i++)
            {
                sum += weight[o * x.Length + i] * x[i];
            }

            output[o] = sum;
        }

        return output;
    }

    private double[] W(string name)
    {
        if (!this._cache.TryGetValue(name, out var values))
        {
            Assert.True(this._weights.TryGet(name, out var info), $"the checkpoint has no tensor '{name}'");
            values = this._cache[name] = [.. this._weights.ReadFloat32(info).Select(v => (double)v)];
        }

        return values;
    }
}
