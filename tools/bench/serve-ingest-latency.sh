#!/usr/bin/env bash
# Time from 202 to searchable for one 10-page document on t5rag serve (Release) over a fresh embedded store with MiniLM:
# three documents of ten "pages" (about 530 words each, DBpedia abstracts from ../shared/datasets), each uploaded,
# its job waited for, then found by a keyword from its last page. Prints one line per document.
#   dotnet build -c Release && tools/bench/serve-ingest-latency.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
T5=src/Cli/bin/Release/net10.0/t5rag.dll
MODEL=artifacts/assets/all-MiniLM-L6-v2
WORK=$(mktemp -d)
PORT=${PORT:-18765}
python3 - "$WORK" <<'PY'
import gzip, json, sys
work = sys.argv[1]
texts = [json.loads(l)["text"] for l in gzip.open("../shared/datasets/dbpedia/corpus.jsonl.gz", "rt")]
i = 0
for doc in range(3):
    with open(f"{work}/ten-pages-{doc}.md", "w") as f:
        f.write(f"# Handbook {doc}\n\n")
        for page in range(1, 11):
            f.write(f"## Page {page}\n\n")
            words = 0
            while words < 530:
                f.write(texts[i] + "\n\n"); words += len(texts[i].split()); i += 1
PY
dotnet exec $T5 serve --model $MODEL --store "$WORK/store" --urls http://127.0.0.1:$PORT > "$WORK/server.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
until curl -sf http://127.0.0.1:$PORT/readyz >/dev/null; do sleep 0.2; done
# The collection made and the model warm first, so the figure is the ingestion's.
curl -s -F "files=@/dev/stdin;filename=warm.md" http://127.0.0.1:$PORT/api/collections/kb/documents <<< "# Warm" > /dev/null
sleep 3
for doc in 0 1 2; do
  T0=$(date +%s.%N)
  RESP=$(curl -s -F "files=@$WORK/ten-pages-$doc.md;filename=handbook-$doc.md" http://127.0.0.1:$PORT/api/collections/kb/documents)
  T1=$(date +%s.%N)
  ID=$(echo "$RESP" | python3 -c 'import sys,json; print(json.load(sys.stdin)["job_id"])')
  # The job's server-sent events end when it does: no polling loop competing with the embedding for the cores.
  curl -sN http://127.0.0.1:$PORT/api/jobs/$ID/events > /dev/null
  Q=$(tail -c 300 "$WORK/ten-pages-$doc.md" | tr -cs 'A-Za-z' ' ' | awk '{print $(NF-3)}')
  HIT=$(curl -s -H 'Content-Type: application/json' -d "{\"query\":\"$Q\",\"mode\":\"keyword\",\"filters\":{\"document_id\":\"handbook-$doc.md\"},\"top\":1}" http://127.0.0.1:$PORT/api/collections/kb/search | python3 -c 'import sys,json; p=json.load(sys.stdin)["passages"]; print(p[0]["document_id"] if p else "none")')
  T2=$(date +%s.%N)
  JOB=$(curl -s http://127.0.0.1:$PORT/api/jobs/$ID | python3 -c 'import sys,json; from datetime import datetime as d; j=json.load(sys.stdin); print(j["state"], j["passages"], "passages, run", round((d.fromisoformat(j["finished_at"]) - d.fromisoformat(j["started_at"])).total_seconds(), 2), "s")')
  echo "document $doc ($(wc -w < "$WORK/ten-pages-$doc.md") words): upload to 202 $(echo "$T1 - $T0" | bc) s; 202 to searchable $(echo "$T2 - $T1" | bc) s; job $JOB; found: $HIT"
done
