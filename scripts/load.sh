#!/usr/bin/env bash
# HTTP load against a release build: a 100,000-concept termbase and a 100,000-unit TM (built by the
# term_search and tm_lookup benches' generators and reused from target/), term searches, TM lookups
# and checks mixed (scripts/load.lua), while a 20,000-concept TBX import runs in a loop. Search
# words: 6,000 words of the UN devset drawn with Zipf frequencies.
#
#   scripts/load.sh [SECONDS] [CONNECTIONS]      # defaults: 60 s, 32 connections, 2 wrk threads
#
# Needs wrk (Debian: apt-get install -y wrk). Prints wrk's throughput and latency percentiles,
# the figures BENCHMARKS.md records, and the imports that ran meanwhile.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
connections=${2:-32}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release --bin hexaglot
# the data: the benches build (or reuse) their indexes
HEXAGLOT_BENCH_CONCEPTS=100000 HEXAGLOT_BENCH_PROFILE=0 cargo bench --bench term_search -- --test >/dev/null
HEXAGLOT_BENCH_UNITS=100000 cargo bench --bench tm_lookup -- --test >/dev/null
HEXAGLOT_BENCH_CONCEPTS=20000 cargo bench --bench tbx_import >/dev/null
data=target/load-data
rm -rf "$data" && mkdir -p "$data"
cp -r target/bench-termbase-100000/termbase "$data/termbase"
cp -r target/bench-tm-100000/tm "$data/tm"
# query words: the 1,000 most frequent words of each language of the UN devset (Chinese: of the
# two-character sequences), most frequent first across languages
python3 - "$data/queries.txt" <<'PY'
import collections, re, sys
base = "../shared/corpora/unpc-devset/UNv1.0.devset."
ranked = []
for lang in ["ar", "en", "es", "fr", "ru", "zh"]:
    text = open(base + lang, encoding="utf-8").read()
    if lang == "zh":
        words = [m[i:i + 2] for m in re.findall(r"[\u4e00-\u9fff]+", text) for i in range(len(m) - 1)]
    else:
        words = re.findall(r"\w{3,}", text)
    for rank, (w, _) in enumerate(collections.Counter(words).most_common(1000)):
        ranked.append((rank, lang, w))
ranked.sort()
open(sys.argv[1], "w", encoding="utf-8").write("".join(w + "\n" for _, _, w in ranked))
PY
key=$(target/release/hexaglot keys add --role admin --name load --data-dir "$data")
HEXAGLOT_LOG=warn target/release/hexaglot serve --data-dir "$data" --bind 127.0.0.1:18080 \
  --glossaries /nonexistent >/dev/null &
server=$!
trap 'kill $server $importer 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf http://127.0.0.1:18080/healthz >/dev/null && break; sleep 0.2; done
# imports running all along (each into its own collection, replaced each round)
(
  i=0
  while true; do
    curl -s -o /dev/null -w "import %{http_code} %{time_total}s\n" -H "Authorization: Bearer $key" \
      --data-binary @target/bench-tbx-20000.tbx \
      "http://127.0.0.1:18080/api/v1/import?format=tbx&collection=load-import&mode=replace"
    i=$((i + 1))
  done
) > target/load-imports.log 2>&1 &
importer=$!
sleep 2
wrk -t2 -c"$connections" -d"${seconds}s" --latency -s scripts/load.lua http://127.0.0.1:18080
echo "search only:"
LOAD_SEARCH=1 LOAD_LOOKUP=0 LOAD_CHECK=0 wrk -t2 -c"$connections" -d"${seconds}s" -s scripts/load.lua \
  http://127.0.0.1:18080
kill $importer 2>/dev/null || true
echo "search cache:"; curl -s -H "Authorization: Bearer $key" http://127.0.0.1:18080/metrics | grep "^hexaglot_search_cache"
echo "imports during the runs:"; sort target/load-imports.log | uniq -c | head
