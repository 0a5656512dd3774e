using System.Text.Json;
using T5Gemma2.Rag.Cli;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Cli;

/// <summary>
/// `t5rag search`, `ask` and `eval` retrieve through one path (the retriever ask uses): the same flags give the same
/// passages, eval measures that path (reranking included), and eval's numbers on the default settings are BEIR's.
/// </summary>
public sealed class RetrievalPathTests(SharedTinyT5Gemma2 tiny) : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        this._directory.Dispose();
    }

    [Fact]
    public async Task SearchAndAskWithTheSameFlagsRetrieveTheSamePassagesInTheSameOrder()
    {
        // Documents that chunk into several overlapping passages about one subject, so merging and the
        // per-document cap decide what comes back; one folder outside the filter.
        string[] subjects = ["harbour cranes unload ships", "tides lift ships in the harbour", "lighthouses guide ships to the harbour", "pilots steer ships past the harbour wall"];
        for (int d = 0; d < subjects.Length; d++)
        {
            this._directory.Write($"kb/doc{d}.txt", string.Join(" ", Enumerable.Range(0, 4).Select(p => $"Sentence {p} of note {d}: {subjects[d]}, and the crew counts {p * 7 + d} crates on the quay.")));
        }

        this._directory.Write("other/elsewhere.txt", "Ships and harbours appear here too, but this folder is filtered out.");
        string store = this._directory.Combine("store");
        var (indexed, _, indexError) = await CliRunner.RunAsync("index", this._directory.Combine("kb"), this._directory.Combine("other"), "--store", store, "--model", TestAssets.MiniLmDirectory, "--chunk-tokens", "24", "--overlap", "6");
        Assert.True(indexed == ExitCodes.Success, indexError);
        string source = this._directory.Combine("kb").Replace('\\', '/');

        foreach (string[] flags in new[]
        {
            new[] { "--top", "3", "--mode", "hybrid", "--filter", $"source={source}" },
            ["--top", "2", "--mode", "keyword", "--rerank", "--generator", tiny.ConvertedDirectory],
            ["--top", "3", "--mode", "hybrid", "--fusion", "Convex", "--dense-weight", "0.7"],
        })
        {
            string[] common = ["ships in the harbour", "--store", store, "--model", TestAssets.MiniLmDirectory, .. flags];
            var (searched, searchJson, searchError) = await CliRunner.RunAsync(["search", .. common, "--json"]);
            Assert.True(searched == ExitCodes.Success, searchError);
            string[] generator = flags.Contains("--generator") ? [] : ["--generator", tiny.ConvertedDirectory];
            var (asked, askJson, askError) = await CliRunner.RunAsync(["ask", .. common, .. generator, "--max-new-tokens", "1", "--json"]);
            Assert.True(asked == ExitCodes.Success, askError);

            var hits = JsonDocument.Parse(searchJson).RootElement.EnumerateArray().Select(h => (Ids: string.Join(",", h.GetProperty("passage_ids").EnumerateArray().Select(i => i.GetString())), Score: h.GetProperty("score").GetDouble())).ToList();
            var citations = JsonDocument.Parse(askJson).RootElement.GetProperty("citations").EnumerateArray().Select(c => (Ids: string.Join(",", c.GetProperty("passage_ids").EnumerateArray().Select(i => i.GetString())), Score: c.GetProperty("score").GetDouble())).ToList();
            Assert.NotEmpty(hits);
            Assert.Equal(hits.Select(h => h.Ids), citations.Select(c => c.Ids));
            Assert.Equal(hits.Select(h => h.Score), citations.Select(c => c.Score));

            // The retriever's work is visible: neighbouring passages merged, at most 3 per document, the filter kept.
            var sources = JsonDocument.Parse(searchJson).RootElement.EnumerateArray().Select(h => h.GetProperty("document_id").GetString()!).ToList();
            Assert.All(sources.GroupBy(s => s), g => Assert.True(g.Count() <= 3, $"{g.Key}: {g.Count()} passages"));
            if (flags.Contains("--filter"))
            {
                Assert.All(sources, s => Assert.StartsWith(source, s, StringComparison.Ordinal));
            }

            if (flags.Contains("--rerank"))
            {
                // Mean log p(query | passage): the decoder's scores, not BM25's.
                Assert.All(hits, h => Assert.True(h.Score < 0, $"score {h.Score}"));
            }
        }

        var (all, allJson, _) = await CliRunner.RunAsync("search", "ships in the harbour", "--store", store, "--model", TestAssets.MiniLmDirectory, "--top", "8", "--json");
        Assert.Equal(ExitCodes.Success, all);
        Assert.Contains(JsonDocument.Parse(allJson).RootElement.EnumerateArray(), h => h.GetProperty("passage_ids").GetArrayLength() > 1);
    }

    [Fact]
    public async Task DenseSearchWithoutAModelAndRerankWithoutAGeneratorAreUsageErrors()
    {
        string store = this._directory.Combine("store");
        this._directory.Write("kb/a.txt", "Ships in the harbour.");
        Assert.Equal(ExitCodes.Success, (await CliRunner.RunAsync("index", this._directory.Combine("kb"), "--store", store, "--model", TestAssets.MiniLmDirectory)).ExitCode);
        string config = this._directory.Write("empty.json", "{}");

        // Keyword search loads no model at all.
        var (keyword, found, _) = await CliRunner.RunAsync("search", "harbour", "--store", store, "--mode", "keyword", "--config", config);
        Assert.Equal(ExitCodes.Success, keyword);
        Assert.Contains("a.txt", found, StringComparison.Ordinal);

        foreach (string[] args in new[]
        {
            new[] { "search", "harbour", "--store", store, "--mode", "keyword", "--rerank", "--config", config },
            ["search", "harbour", "--store", store, "--mode", "dense", "--config", config],
            ["search", "harbour", "--store", store, "--mode", "keyword", "--dense-weight", "2"],
            ["search", "  ", "--store", store, "--mode", "keyword"],
            ["search", "harbour", "--store", store, "--mode", "1"], // Enum.TryParse would take it as keyword
            ["search", "harbour", "--store", store, "--mode", "dense, keyword"],
        })
        {
            var (code, _, error) = await CliRunner.RunAsync(args);
            Assert.Equal(ExitCodes.UsageError, code);
            Assert.Single(error.Trim().Split('\n'));
        }
    }

    [Fact]
    public async Task EvalOnTheDefaultSettingsGivesTheScoresWorkedOutByHandFromTheQrels()
    {
        string dataset = this.WriteTinyBeir();

        // BM25 over these documents matches only the words the queries share with them (OR of the terms), so each
        // query's ranking is known: q1 → d1; q2 → d4 (both words) then d2; q3 → d3 and d5 (one word each, both
        // relevant, order immaterial); q4 → nothing; q5 → d6, a long document whose many chunks match.
        double log3 = Math.Log2(3), log4 = Math.Log2(4);
        double[] ndcg = [1, (2 / log3) / 2, (1 + (1 / log3)) / (1 + (1 / log3) + (1 / log4)), 0, 1];
        double[] recall = [1, 1, 2.0 / 3, 0, 1];
        double[] reciprocal = [1, 0.5, 1, 0, 1];

        foreach (string[] extra in new[] { Array.Empty<string>(), ["--chunk"] })
        {
            // --chunk: d6 becomes several passages; merged or not, they count once, for their document.
            var (code, output, error) = await CliRunner.RunAsync(["eval", "beir", dataset, "--model", TestAssets.MiniLmDirectory, "--mode", "keyword", "--json", .. extra]);
            Assert.True(code == ExitCodes.Success, error);
            var row = Assert.Single(JsonDocument.Parse(output).RootElement.EnumerateArray().ToList());
            Assert.Equal("keyword", row.GetProperty("mode").GetString());
            Assert.Equal(5, row.GetProperty("queries").GetInt32());
            Assert.Equal(ndcg.Average(), row.GetProperty("ndcg_at_10").GetDouble(), 9);
            Assert.Equal(recall.Average(), row.GetProperty("recall_at_10").GetDouble(), 9);
            Assert.Equal(recall.Average(), row.GetProperty("recall_at_100").GetDouble(), 9);
            Assert.Equal(reciprocal.Average(), row.GetProperty("mrr_at_10").GetDouble(), 9);
            var settings = row.GetProperty("retrieval");
            Assert.Equal((100, 100, false, 3, true), (settings.GetProperty("top").GetInt32(), settings.GetProperty("candidates").GetInt32(), settings.GetProperty("rerank").GetBoolean(), settings.GetProperty("max_passages_per_document").GetInt32(), settings.GetProperty("merge_adjacent").GetBoolean()));
        }

        var (table, text, _) = await CliRunner.RunAsync("eval", "beir", dataset, "--model", TestAssets.MiniLmDirectory, "--mode", "keyword");
        Assert.Equal(ExitCodes.Success, table);
        Assert.Contains("top 100 from 100 hits, neighbouring passages merged, at most 3 passages per document, not reranked", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EvalWithRerankMeasuresTheRerankedRankingThatSearchReturns()
    {
        string dataset = this.WriteTinyBeir();
        var judgments = File.ReadLines(Path.Combine(dataset, "qrels", "test.tsv")).Skip(1).Select(l => l.Split('\t'))
            .GroupBy(f => f[0]).ToDictionary(g => g.Key, g => g.ToDictionary(f => f[1], f => int.Parse(f[2], System.Globalization.CultureInfo.InvariantCulture)));
        var queries = File.ReadLines(Path.Combine(dataset, "queries.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToDictionary(q => q.GetProperty("_id").GetString()!, q => q.GetProperty("text").GetString()!);

        string store = this._directory.Combine("store");
        var (code, output, error) = await CliRunner.RunAsync("eval", "beir", dataset, "--model", TestAssets.MiniLmDirectory, "--mode", "keyword", "--rerank", "--generator", tiny.ConvertedDirectory, "--store", store, "--json");
        Assert.True(code == ExitCodes.Success, error);
        var row = Assert.Single(JsonDocument.Parse(output).RootElement.EnumerateArray().ToList());
        Assert.Equal("keyword+rerank", row.GetProperty("mode").GetString());
        Assert.True(row.GetProperty("retrieval").GetProperty("rerank").GetBoolean());
        Assert.Equal(tiny.ConvertedDirectory, row.GetProperty("retrieval").GetProperty("reranker").GetString());

        // The same rankings, from search over the store eval kept, scored here with BEIR's formulas.
        double ndcg = 0, mrr = 0;
        bool reordered = false;
        foreach (var (id, query) in queries)
        {
            var (reranked, json, searchError) = await CliRunner.RunAsync("search", query, "--store", store, "--collection", "tiny", "--mode", "keyword", "--top", "100", "--rerank", "--generator", tiny.ConvertedDirectory, "--json");
            Assert.True(reranked == ExitCodes.Success, searchError);
            var hits = JsonDocument.Parse(json).RootElement.EnumerateArray().ToList();
            Assert.All(hits, h => Assert.True(h.GetProperty("score").GetDouble() < 0));
            var ranked = hits.Select(h => h.GetProperty("document_id").GetString()!).Distinct().ToList();
            var (_, plain, _) = await CliRunner.RunAsync("search", query, "--store", store, "--collection", "tiny", "--mode", "keyword", "--top", "100", "--json");
            reordered |= !ranked.SequenceEqual(JsonDocument.Parse(plain).RootElement.EnumerateArray().Select(h => h.GetProperty("document_id").GetString()!));

            var judged = judgments[id];
            double dcg = ranked.Take(10).Select((d, i) => judged.GetValueOrDefault(d) / Math.Log2(i + 2)).Sum();
            double ideal = judged.Values.Where(g => g > 0).OrderDescending().Select((g, i) => g / Math.Log2(i + 2)).Sum();
            ndcg += dcg / ideal;
            int first = ranked.Take(10).ToList().FindIndex(d => judged.GetValueOrDefault(d) > 0);
            mrr += first < 0 ? 0 : 1.0 / (first + 1);
        }

        Assert.Equal(ndcg / queries.Count, row.GetProperty("ndcg_at_10").GetDouble(), 9);
        Assert.Equal(mrr / queries.Count, row.GetProperty("mrr_at_10").GetDouble(), 9);

        // The seeded tiny decoder puts d2 above d4 for q2 (BM25 had d4 first): the reranked path was measured.
        Assert.True(reordered, "reranking changed no query's document order; eval may not have reranked");
    }

    /// <summary>A BEIR folder of six documents and five judged queries (one document long enough to chunk).</summary>
    private string WriteTinyBeir()
    {
        string dataset = this._directory.Combine("tiny");
        string lighthouse = string.Join(" ", Enumerable.Range(0, 60).Select(i => $"The lighthouse keepers climbed {i} steps at dusk."));
        (string Id, string Text)[] corpus =
        [
            ("d1", "Zebras graze on the open savanna grass."),
            ("d2", "Penguins dive into cold antarctic water for fish."),
            ("d3", "Volcanoes erupt molten lava and ash."),
            ("d4", "Glaciers carve valleys; penguins rest on glaciers near water."),
            ("d5", "Violins and cellos play in the orchestra."),
            ("d6", lighthouse),
        ];
        this._directory.Write("tiny/corpus.jsonl", string.Join('\n', corpus.Select(c => JsonSerializer.Serialize(new { _id = c.Id, text = c.Text }))));
        this._directory.Write("tiny/queries.jsonl", string.Join('\n', new[] { ("q1", "zebras savanna"), ("q2", "penguins glaciers"), ("q3", "volcanoes orchestra"), ("q4", "quantum chromodynamics"), ("q5", "lighthouse keepers") }
            .Select(q => JsonSerializer.Serialize(new { _id = q.Item1, text = q.Item2 }))));
        this._directory.Write("tiny/qrels/test.tsv", "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t2\nq2\td4\t0\nq3\td3\t1\nq3\td5\t1\nq3\td1\t1\nq4\td5\t1\nq5\td6\t1\n");
        return dataset;
    }
}
