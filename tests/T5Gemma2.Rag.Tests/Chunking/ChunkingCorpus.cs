using System.Text;
using T5Gemma2.Rag.Indexer.Documents;

namespace T5Gemma2.Rag.Tests.Chunking;

/// <summary>Deterministic generated text: prose, a word run, base64, CJK, and documents built from them.</summary>
internal static class ChunkingCorpus
{
    private static readonly string[] s_words =
    [
        "the", "index", "retrieval", "model", "of", "a", "chunk", "token", "budget", "sentence", "paragraph", "and", "is",
        "embedding", "vector", "search", "query", "document", "section", "heading", "page", "every", "which", "encoder",
        "decoder", "attention", "layer", "weights", "quantised", "throughput", "latency", "benchmark", "tokenizer",
        "overlap", "boundary", "cosine", "similarity", "corpus", "citation", "answer", "context", "window", "streaming",
        "naïve", "café", "résumé", "Zürich", "co-operate", "e.g.", "3.14", "file.txt", "C#", "GPU", "ONNX", "(see", "above)",
    ];

    private static readonly string[] s_cjkSentences =
    [
        "東京タワーは港区にある電波塔です", "検索拡張生成は文書を小さな断片に分けてから埋め込みを計算する",
        "トークン数の上限を超えないように分割する必要がある", "自然言語処理では文の境界が重要だ", "北京是中国的首都",
        "这个模型使用相同的分词器来计算长度", "一つの段落が長すぎる場合は文で区切る",
    ];

    public static LoadedDocument Document(string text, IReadOnlyList<DocumentSection>? sections = null) =>
        new() { DocumentId = "test.txt", Source = "/corpus/test.txt", Text = text, Sections = sections ?? [] };

    public static string Sentence(Random random, int minWords = 5, int maxWords = 30)
    {
        int count = random.Next(minWords, maxWords + 1);
        var builder = new StringBuilder();
        for (int i = 0; i < count; i++)
        {
            string word = s_words[random.Next(s_words.Length)];
            builder.Append(i == 0 ? char.ToUpperInvariant(word[0]) + word[1..] : " " + word);
        }

        builder.Append(random.Next(10) switch { 0 => '?', 1 => '!', _ => '.' });
        return builder.ToString();
    }

    public static string Paragraph(Random random, int minSentences = 1, int maxSentences = 12) =>
        string.Join(' ', Enumerable.Range(0, random.Next(minSentences, maxSentences + 1)).Select(_ => Sentence(random)));

    /// <summary>Paragraphs separated by blank lines (some with extra spaces and blank lines between).</summary>
    public static string Prose(int seed, int paragraphs, int maxSentences = 12)
    {
        var random = new Random(seed);
        var builder = new StringBuilder();
        for (int i = 0; i < paragraphs; i++)
        {
            if (i > 0)
            {
                builder.Append(random.Next(5) == 0 ? "\n  \n\n" : "\n\n");
            }

            builder.Append(Paragraph(random, 1, maxSentences));
        }

        return builder.ToString();
    }

    public static string Base64(int seed, int bytes)
    {
        var data = new byte[bytes];
        new Random(seed).NextBytes(data);
        return Convert.ToBase64String(data);
    }

    public static string CjkSentences(int seed, int sentences)
    {
        var random = new Random(seed);
        var builder = new StringBuilder();
        for (int i = 0; i < sentences; i++)
        {
            builder.Append(s_cjkSentences[random.Next(s_cjkSentences.Length)]).Append('。');
        }

        return builder.ToString();
    }

    /// <summary>A mixed document of about <paramref name="targetChars"/> characters, in sections with heading paths and pages.</summary>
    public static LoadedDocument Large(int seed, int targetChars)
    {
        var random = new Random(seed);
        var builder = new StringBuilder(targetChars + 100_000);
        var sections = new List<DocumentSection>();
        while (builder.Length < targetChars)
        {
            int start = builder.Length;
            switch (random.Next(10))
            {
                case 0:
                    builder.Append(Base64(random.Next(), random.Next(100, 6_000)));
                    break;
                case 1:
                    builder.Append(CjkSentences(random.Next(), random.Next(5, 400)));
                    break;
                case 2:
                    for (int line = random.Next(5, 300); line > 0; line--)
                    {
                        builder.Append("    var x").Append(line).Append(" = Compute(").Append(random.Next()).Append(");   // ").Append(Sentence(random, 1, 8)).Append('\n');
                    }

                    break;
                case 3:
                    // One very long paragraph without blank lines.
                    builder.Append(Paragraph(random, 200, 600));
                    break;
                default:
                    builder.Append(Prose(random.Next(), random.Next(1, 40)));
                    break;
            }

            builder.Append("\n\n");
            sections.Add(new DocumentSection(start, builder.Length - start, $"Part {sections.Count / 10} > Section {sections.Count}", random.Next(3) == 0 ? null : sections.Count + 1));
        }

        return new LoadedDocument { DocumentId = "large.txt", Source = "/corpus/large.txt", Text = builder.ToString(), Sections = sections };
    }
}
