using System.Text.Json;
using T5Gemma2.Rag.Encoder.Checkpoints;

namespace T5Gemma2.Rag.Tests.Conversion;

/// <summary>
/// The T5Gemma 2 text encoder computed plainly, in double precision, from the specification
/// (../shared/docs/t5gemma2-architecture.md §2) and the checkpoint's own files. It shares no code with the graph
/// builder: config.json is read here field by field and every step is a loop, so a slip in either shows as a mismatch.
/// It reads the three checkpoint shapes: a full <c>t5gemma2</c> (<c>model.encoder.*</c>), a standalone
/// <c>t5gemma2_encoder</c> (bare names, <c>text_config</c>), and a bidirectional <c>gemma3_text</c> (EmbeddingGemma:
/// bare names, <c>input_layernorm</c>/<c>post_attention_layernorm</c>, no eoi vector, and transformers' symmetric
/// window: W becomes W // 2 + 1 on load and a query sees the keys with |i − j| &lt; that).
/// </summary>
internal sealed class ReferenceEncoder
{
    private readonly SafeTensorsCheckpoint _weights;
    private readonly int _hidden, _layers, _heads, _kvHeads, _headDim, _window, _image;
    private readonly int? _eoi;
    private readonly bool _gemma3;
    private readonly string _prefix, _preAttentionNorm, _postAttentionNorm;
    private readonly double _eps, _scale;
    private readonly double? _softcap;
    private readonly string[] _layerTypes;
    private readonly (double Theta, double Factor) _slidingRope, _fullRope;
    private readonly Dictionary<string, double[]> _cache = [];
    private readonly string[] _decoderLayerTypes = [];
    private readonly int _decoderWindow;
    private readonly double _decoderScale;

    public ReferenceEncoder(string checkpointDirectory, SafeTensorsCheckpoint weights)
    {
        this._weights = weights;
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(checkpointDirectory, "config.json")));
        var root = document.RootElement;
        string modelType = root.GetProperty("model_type").GetString()!;
        this._gemma3 = modelType == "gemma3_text";
        var text = modelType switch
        {
            "t5gemma2" => root.GetProperty("encoder").GetProperty("text_config"),
            "t5gemma2_encoder" => root.GetProperty("text_config"),
            _ => root,
        };
        this._prefix = modelType == "t5gemma2" ? "model.encoder." : "";
        (this._preAttentionNorm, this._postAttentionNorm) = this._gemma3
            ? ("input_layernorm", "post_attention_layernorm")
            : ("pre_self_attn_layernorm", "post_self_attn_layernorm");
        this._hidden = text.GetProperty("hidden_size").GetInt32();
        this._layers = text.GetProperty("num_hidden_layers").GetInt32();
        this._heads = text.GetProperty("num_attention_heads").GetInt32();
        this._kvHeads = text.GetProperty("num_key_value_heads").GetInt32();
        this._headDim = text.GetProperty("head_dim").GetInt32();
        this._window = text.GetProperty("sliding_window").GetInt32();
        this._eps = text.GetProperty("rms_norm_eps").GetDouble();
        this._scale = Math.Pow(text.GetProperty("query_pre_attn_scalar").GetDouble(), -0.5);
        this._softcap = text.TryGetProperty("attn_logit_softcapping", out var cap) && cap.ValueKind == JsonValueKind.Number ? cap.GetDouble() : null;
        this._layerTypes = [.. text.GetProperty("layer_types").EnumerateArray().Select(e => e.GetString()!)];
        if (text.TryGetProperty("rope_parameters", out var rope))
        {
            this._slidingRope = ReadRope(rope.GetProperty("sliding_attention"));
            this._fullRope = ReadRope(rope.GetProperty("full_attention"));
        }
        else
        {
            // transformers 4's keys, as google/embeddinggemma-300m has them (its rope_scaling is null: no scaling).
            Assert.Equal(JsonValueKind.Null, text.GetProperty("rope_scaling").ValueKind);
            this._slidingRope = (text.GetProperty("rope_local_base_freq").GetDouble(), 1.0);
            this._fullRope = (text.GetProperty("rope_theta").GetDouble(), 1.0);
        }
        // Gemma 3 has no eoi vector; transformers' standalone T5Gemma2Encoder uses 256000 whatever its config says.
        this._eoi = this._gemma3 ? null : root.TryGetProperty("eoi_token_index", out var eoi) ? eoi.GetInt32() : 256_000;
        if (root.TryGetProperty("decoder", out var decoder))
        {
            // The tiny preset's decoder has the encoder's dimensions; its own window, layer types and scale are read here.
            this._decoderLayerTypes = [.. decoder.GetProperty("layer_types").EnumerateArray().Select(e => e.GetString()!)];
            this._decoderWindow = decoder.GetProperty("sliding_window").GetInt32();
            this._decoderScale = Math.Pow(decoder.GetProperty("query_pre_attn_scalar").GetDouble(), -0.5);
        }
        this._image = root.TryGetProperty("image_token_index", out var image) ? image.GetInt32() : -1;
    }

    /// <summary>last_hidden_state [batch][position][hidden] for right- or left-padded inputs.</summary>
    public double[][][] Run(long[][] ids, long[][] mask, float[][]? imageFeatures = null)
    {
        int imageRow = 0;
        var result = new double[ids.Length][][];
        for (int b = 0; b < ids.Length; b++)
        {
            int n = ids[b].Length;
            var x = new double[n][];
            for (int s = 0; s < n; s++)
            {
                long id = ids[b][s];
                if (id == this._image && imageFeatures is not null)
                {
                    x[s] = [.. imageFeatures[imageRow++].Select(v => (double)v)];
                }
                else if (id == this._eoi)
                {
                    x[s] = [.. this.W(this._prefix + "embed_tokens.eoi_embedding")];
                }
                else
                {
                    x[s] = [.. this.Row(this._prefix + "embed_tokens.weight", id).Select(v => v * Math.Sqrt(this._hidden))];
                }
            }

            for (int layer = 0; layer < this._layers; layer++)
            {
                string p = $"{this._prefix}layers.{layer}.";
                var h = x.Select(v => this.RmsNorm(v, $"{p}{this._preAttentionNorm}.weight")).ToArray();
                var attention = this.Attention(h, mask[b], p, this._layerTypes[layer] == "full_attention");
                for (int s = 0; s < n; s++)
                {
                    Add(x[s], this.RmsNorm(attention[s], $"{p}{this._postAttentionNorm}.weight"));
                }

                for (int s = 0; s < n; s++)
                {
                    var m = this.RmsNorm(x[s], p + "pre_feedforward_layernorm.weight");
                    var gate = this.Linear(m, p + "mlp.gate_proj.weight");
                    var up = this.Linear(m, p + "mlp.up_proj.weight");
                    var product = gate.Select((g, i) => GeluTanh(g) * up[i]).ToArray();
                    Add(x[s], this.RmsNorm(this.Linear(product, p + "mlp.down_proj.weight"), p + "post_feedforward_layernorm.weight"));
                }
            }

            result[b] = [.. x.Select(v => this.RmsNorm(v, this._prefix + "norm.weight"))];
        }

        return result;
    }

    /// <summary>
    /// Decoder logits of the last position for <paramref name="decoderIds"/>, recomputed from scratch (no cache): merged
    /// attention, one softmax over self keys (causal, windowed on sliding layers, RoPE) then cross keys (no RoPE, the
    /// encoder's padding masked), through the same k_proj/v_proj/k_norm; logits through the tied embedding.
    /// </summary>
    /// <param name="imageFeatures">Rows for the encoder input's image soft tokens, in order, or null for text.</param>
    public double[] DecoderLastLogits(long[] encoderIds, long[] encoderMask, IReadOnlyList<int> decoderIds, float[][]? imageFeatures = null)
    {
        var encoder = this.Run([encoderIds], [encoderMask], imageFeatures)[0];
        int n = decoderIds.Count, d = this._headDim, groups = this._heads / this._kvHeads;
        var x = decoderIds.Select(id => id == this._eoi
            ? [.. this.W("model.encoder.embed_tokens.eoi_embedding")]
            : this.Row("model.encoder.embed_tokens.weight", id).Select(v => v * Math.Sqrt(this._hidden)).ToArray()).ToArray();
        for (int layer = 0; layer < this._decoderLayerTypes.Length; layer++)
        {
            string p = $"model.decoder.layers.{layer}.";
            bool full = this._decoderLayerTypes[layer] == "full_attention";
            var (theta, factor) = full ? this._fullRope : this._slidingRope;
            var h = x.Select(v => this.RmsNorm(v, p + "pre_self_attn_layernorm.weight")).ToArray();
            var q = h.Select((v, t) => Heads(this.Linear(v, p + "self_attn.q_proj.weight"), this._heads, d).Select(head => Rope(this.RmsNorm(head, p + "self_attn.q_norm.weight"), t, theta, factor)).ToArray()).ToArray();
            var k = h.Select((v, t) => Heads(this.Linear(v, p + "self_attn.k_proj.weight"), this._kvHeads, d).Select(head => Rope(this.RmsNorm(head, p + "self_attn.k_norm.weight"), t, theta, factor)).ToArray()).ToArray();
            var v = h.Select(v => Heads(this.Linear(v, p + "self_attn.v_proj.weight"), this._kvHeads, d)).ToArray();
            var crossK = encoder.Select(e => Heads(this.Linear(e, p + "self_attn.k_proj.weight"), this._kvHeads, d).Select(head => this.RmsNorm(head, p + "self_attn.k_norm.weight")).ToArray()).ToArray();
            var crossV = encoder.Select(e => Heads(this.Linear(e, p + "self_attn.v_proj.weight"), this._kvHeads, d)).ToArray();
            for (int t = 0; t < n; t++)
            {
                var output = new double[this._heads * d];
                for (int head = 0; head < this._heads; head++)
                {
                    int kvHead = head / groups;
                    var scores = new List<(double Score, double[] Value)>();
                    for (int j = 0; j <= t; j++)
                    {
                        if (full || t - j < this._decoderWindow)
                        {
                            scores.Add((Dot(q[t][head], k[j][kvHead]) * this._decoderScale, v[j][kvHead]));
                        }
                    }

                    for (int s = 0; s < encoder.Length; s++)
                    {
                        if (encoderMask[s] == 1)
                        {
                            scores.Add((Dot(q[t][head], crossK[s][kvHead]) * this._decoderScale, crossV[s][kvHead]));
                        }
                    }

                    double max = scores.Max(e => e.Score);
                    double total = scores.Sum(e => Math.Exp(e.Score - max));
                    foreach (var (score, value) in scores)
                    {
                        for (int i = 0; i < d; i++)
                        {
                            output[head * d + i] += Math.Exp(score - max) / total * value[i];
                        }
                    }
                }

                Add(x[t], this.RmsNorm(this.Linear(output, p + "self_attn.o_proj.weight"), p + "post_self_attn_layernorm.weight"));
            }

            for (int t = 0; t < n; t++)
            {
                var m = this.RmsNorm(x[t], p + "pre_feedforward_layernorm.weight");
                var gate = this.Linear(m, p + "mlp.gate_proj.weight");
                var up = this.Linear(m, p + "mlp.up_proj.weight");
                Add(x[t], this.RmsNorm(this.Linear([.. gate.Select((g, i) => GeluTanh(g) * up[i])], p + "mlp.down_proj.weight"), p + "post_feedforward_layernorm.weight"));
            }
        }

        var last = this.RmsNorm(x[^1], "model.decoder.norm.weight");
        var table = this.W("model.encoder.embed_tokens.weight");
        var logits = new double[table.Length / this._hidden];
        for (int token = 0; token < logits.Length; token++)
        {
            double sum = 0;
            for (int i = 0; i < this._hidden; i++)
            {
                sum += table[token * this._hidden + i] * last[i];
            }

            logits[token] = sum;
        }

        return logits;
    }

    private static double[][] Heads(double[] x, int heads, int d) => [.. Enumerable.Range(0, heads).Select(i => x[(i * d)..((i + 1) * d)])];

    private static double Dot(double[] a, double[] b) => a.Select((v, i) => v * b[i]).Sum();

    private double[][] Attention(double[][] h, long[] mask, string p, bool full)
    {
        int n = h.Length, d = this._headDim, groups = this._heads / this._kvHeads;
        var (theta, factor) = full ? this._fullRope : this._slidingRope;
        var q = new double[n][][];
        var k = new double[n][][];
        var v = new double[n][][];
        for (int s = 0; s < n; s++)
        {
            var qs = this.Linear(h[s], p + "self_attn.q_proj.weight");
            var ks = this.Linear(h[s], p + "self_attn.k_proj.weight");
            var vs = this.Linear(h[s], p + "self_attn.v_proj.weight");
            q[s] = [.. Enumerable.Range(0, this._heads).Select(i => Rope(this.RmsNorm(qs[(i * d)..((i + 1) * d)], p + "self_attn.q_norm.weight"), s, theta, factor))];
            k[s] = [.. Enumerable.Range(0, this._kvHeads).Select(i => Rope(this.RmsNorm(ks[(i * d)..((i + 1) * d)], p + "self_attn.k_norm.weight"), s, theta, factor))];
            v[s] = [.. Enumerable.Range(0, this._kvHeads).Select(i => vs[(i * d)..((i + 1) * d)])];
        }

        // T5Gemma 2's bidirectional window: itself, (W+1)/2 − 1 to the left, W/2 to the right. Gemma 3's: W' = W // 2 + 1
        // on load, then every key with |i − j| < W' on both sides.
        int loaded = this._window / 2 + 1;
        int left = this._gemma3 ? loaded : (this._window + 1) / 2, right = this._gemma3 ? loaded : this._window / 2 + 1;
        var output = new double[n][];
        for (int i = 0; i < n; i++)
        {
            output[i] = new double[this._heads * d];
            for (int head = 0; head < this._heads; head++)
            {
                int kvHead = head / groups;
                var scores = new double[n];
                for (int j = 0; j < n; j++)
                {
                    int distance = i - j;
                    bool inWindow = full || (distance >= 0 && distance < left) || (distance < 0 && -distance < right);
                    double score = Enumerable.Range(0, d).Sum(t => q[i][head][t] * k[j][kvHead][t]) * this._scale;
                    if (this._softcap is double c)
                    {
                        score = Math.Tanh(score / c) * c;
                    }

                    scores[j] = mask[j] == 1 && inWindow ? score : double.NegativeInfinity;
                }

                double max = scores.Max();
                if (double.IsNegativeInfinity(max))
                {
                    continue; // a padding query with no visible key: its state is never read
                }

                var weights = scores.Select(s => double.IsNegativeInfinity(s) ? 0 : Math.Exp(s - max)).ToArray();
                double total = weights.Sum();
                for (int j = 0; j < n; j++)
                {
                    if (weights[j] == 0)
                    {
                        continue; // masked keys contribute nothing, whatever their (padding) values hold
                    }

                    for (int t = 0; t < d; t++)
                    {
                        output[i][head * d + t] += weights[j] / total * v[j][kvHead][t];
                    }
                }
            }

            output[i] = this.Linear(output[i], p + "self_attn.o_proj.weight");
        }

        return output;
    }

    private static double[] Rope(double[] x, int position, double theta, double factor)
    {
        int half = x.Length / 2;
        var result = new double[x.Length];
        for (int i = 0; i < half; i++)
        {
            double angle = position * (1.0 / Math.Pow(theta, 2.0 * i / x.Length) / factor);
            double cos = Math.Cos(angle), sin = Math.Sin(angle);
            result[i] = x[i] * cos - x[i + half] * sin;
            result[i + half] = x[i + half] * cos + x[i] * sin;
        }

        return result;
    }

    private double[] RmsNorm(double[] x, string weight)
    {
        double rms = Math.Sqrt(x.Sum(v => v * v) / x.Length + this._eps);
        var w = this.W(weight);
        return [.. x.Select((v, i) => v / rms * (1 + w[i]))];
    }

    private double[] Linear(double[] x, string weight)
    {
        var w = this.W(weight);
        int inputs = x.Length, outputs = w.Length / inputs;
        var y = new double[outputs];
        for (int o = 0; o < outputs; o++)
        {
            double sum = 0;
            for (int i = 0; i < inputs; i++)
            {
                sum += w[o * inputs + i] * x[i];
            }

            y[o] = sum;
        }

        return y;
    }

    internal static double GeluTanh(double x) => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));

    internal static void Add(double[] target, double[] value)
    {
        for (int i = 0; i < target.Length; i++)
        {
            target[i] += value[i];
        }
    }

    private double[] Row(string name, long row) => this.W(name).AsSpan((int)(row * this._hidden), this._hidden).ToArray();

    private double[] W(string name)
    {
        if (!this._cache.TryGetValue(name, out var values))
        {
            Assert.True(this._weights.TryGet(name, out var info), $"reference: tensor {name} missing");
            values = [.. this._weights.ReadFloat32(info).Select(v => (double)v)];
            this._cache[name] = values;
        }

        return values;
    }

    private static (double, double) ReadRope(JsonElement rope) =>
        (rope.GetProperty("rope_theta").GetDouble(), rope.GetProperty("rope_type").GetString() == "linear" ? rope.GetProperty("factor").GetDouble() : 1.0);
}
