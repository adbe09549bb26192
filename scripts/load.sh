#!/usr/bin/env bash
# HTTP load against a release build: a 100,000-concept termbase and a 100,000-unit TM (built by the
# term_search and tm_lookup benches' generators and reused from target/), term searches, TM lookups
# and checks mixed (scripts/load.lua), while a 20,000-concept TBX import runs in a loop. Search
# words: 6,000 words of the UN devset drawn with Zipf frequencies.
#
#   scripts/load.sh [SECONDS] [CONNECTIONS]      # defaults: 60 s, 32 connections, 2 wrk threads
#
# Needs wrk (Debian: apt-get install -y wrk) and oha (crates.io; installed into target/tools when
# missing). Prints throughput and latency percentiles, the figures BENCHMARKS.md records, and the
# imports that ran meanwhile. LOAD_RATE sets the paced search rate (default 5000/s);
# LOAD_PACED_ONLY=1 stops after the paced run; LOAD_WARMUP sets the unmeasured warm-up before it
# (default 20 s).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
connections=${2:-32}
# the file imported again and again during the runs (LOAD_IMPORT=target/bench-tbx-100000.tbx: a
# whole termbase's worth, committing about once a minute instead of every few seconds), every
# other time replaced by its first 200 concepts, so that every import changes the collection and
# commits (the same file imported again changes nothing and commits nothing)
import_file=${LOAD_IMPORT:-target/bench-tbx-20000.tbx}
small_file=target/bench-tbx-200.tbx
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release --bin hexaglot
# the data: the benches build (or reuse) their indexes
HEXAGLOT_BENCH_CONCEPTS=100000 HEXAGLOT_BENCH_PROFILE=0 cargo bench --bench term_search -- --test >/dev/null
HEXAGLOT_BENCH_UNITS=100000 cargo bench --bench tm_lookup -- --test >/dev/null
HEXAGLOT_BENCH_CONCEPTS=20000 cargo bench --bench tbx_import >/dev/null
[ -f "$import_file" ] || cargo bench --bench tbx_import >/dev/null
[ -f "$small_file" ] || HEXAGLOT_BENCH_CONCEPTS=200 cargo bench --bench tbx_import >/dev/null
data=target/load-data
rm -rf "$data" && mkdir -p "$data"
cp -r target/bench-termbase-100000/termbase "$data/termbase"
cp -r target/bench-tm-100000/tm "$data/tm"
# search paths: the 1,000 most frequent words of each language of the UN devset (Chinese: of the
# two-character sequences), ranked across languages, drawn 200,000 times with probability falling
# as 1/rank (Zipf), as real term lookups are; wrk (load.lua) and oha both take them from this list
python3 - "$data/search-paths.txt" <<'PY'
import collections, math, random, re, sys, urllib.parse
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
words = [w for _, _, w in ranked]
random.seed(1)
with open(sys.argv[1], "w", encoding="utf-8") as out:
    for _ in range(200000):
        # log-uniform rank: P(rank r) ~ 1/r
        r = min(len(words), max(1, int(math.exp(random.random() * math.log(len(words) + 1)))))
        out.write(f"/api/v1/terms/search?q={urllib.parse.quote(words[r - 1])}&limit=20\n")
PY
key=$(target/release/hexaglot keys add --role admin --name load --data-dir "$data")
url=http://127.0.0.1:18080
server= importer=
trap 'kill $server $importer 2>/dev/null || true' EXIT

# starts the server with the extra flags given, and waits until it is ready (recogniser built)
start_server() {
  HEXAGLOT_LOG=warn target/release/hexaglot serve --data-dir "$data" --bind 127.0.0.1:18080 \
    --glossaries /nonexistent --max-import-mib 512 "$@" >/dev/null &
  server=$!
  for _ in $(seq 600); do curl -sf $url/readyz >/dev/null && return; sleep 0.2; done
  echo "the server did not get ready" >&2; exit 1
}

# imports running all along, into their own collection, replaced each round: the whole file, then
# its first 200 concepts, and so on, so each import removes or adds some 19,800 concepts and
# commits; each line of the log: HTTP status, time, when it started, what it changed
start_imports() {
  (
    while true; do
      for file in "$import_file" "$small_file"; do
        started=$(date +%T)
        curl -s -o target/load-import-response.json -w "import %{http_code} %{time_total}s $started started " \
          -H "Authorization: Bearer $key" --data-binary @"$file" \
          "$url/api/v1/import?format=tbx&collection=load-import&mode=replace"
        grep -o '"concepts":{[^}]*}' target/load-import-response.json || echo
      done
    done
  ) >> target/load-imports.log 2>&1 &
  importer=$!
  sleep 2
}

search() { LOAD_SEARCH=1 LOAD_LOOKUP=0 LOAD_CHECK=0 wrk "$@" -s scripts/load.lua $url; }
others=$(( connections / 4 > 0 ? connections / 4 : 1 ))

# paced (open loop): term searches offered at $rate a second whatever the answers take, latency
# counted from when each request was due (oha --latency-correction), TM lookups and checks at
# 100 a second each beside them
rate=${LOAD_RATE:-5000}
oha=$(command -v oha || true)
if [ -z "$oha" ]; then
  [ -x target/tools/bin/oha ] || cargo install oha --locked --root target/tools
  oha=target/tools/bin/oha
fi
sed "s#^#$url#" "$data/search-paths.txt" > "$data/search-urls.txt"
lookup='{"text": "The Security Council remains seized of the matter and will continue to follow developments.", "source_lang": "en", "target_langs": ["fr"], "limit": 5}'
check='{"source_lang": "en", "target_lang": "fr", "segments": [{"id": "1", "source": "Member States are invited to submit their views to the Secretary-General.", "target": "Les États Membres sont invités à communiquer leurs vues au Secrétaire général."}]}'

rm -f target/load-imports.log
start_server
start_imports
# a server just started answers every search from the index until its response cache holds
# what is asked: the same traffic for LOAD_WARMUP seconds (default 20) first, not measured, so
# the figures are the steady state with the import running, not the cold start
warmup=${LOAD_WARMUP:-20}
if [ "$warmup" -gt 0 ]; then
  echo "== warm-up: ${warmup}s of the same term searches, not measured"
  $oha -z "${warmup}s" -q "$rate" -c "$connections" --no-tui --urls-from-file "$data/search-urls.txt" \
    > /dev/null
fi
echo "== paced, import running: term searches offered at $rate/s, TM lookups and checks at 100/s each"
$oha -z "${seconds}s" -q 100 -c 4 --worker-threads 1 --no-tui --latency-correction -m POST \
  -T application/json -d "$lookup" $url/api/v1/tm/lookup > target/load-paced-lookups.txt &
p1=$!
$oha -z "${seconds}s" -q 100 -c 4 --worker-threads 1 --no-tui --latency-correction -m POST \
  -T application/json -d "$check" $url/api/v1/check > target/load-paced-checks.txt &
p2=$!
$oha -z "${seconds}s" -q "$rate" -c "$connections" --no-tui --latency-correction \
  --urls-from-file "$data/search-urls.txt"
wait $p1 $p2
echo "== the TM lookups of that run:"; cat target/load-paced-lookups.txt
echo "== the checks of that run:"; cat target/load-paced-checks.txt
echo "== search cache so far (warm-up included):"
curl -s -H "Authorization: Bearer $key" $url/metrics | grep "^hexaglot_search_cache"
if [ -n "${LOAD_PACED_ONLY:-}" ]; then exit 0; fi
echo "== mixed, import running: term searches ($(( connections - others )) connections) beside TM lookups and checks ($others)"
LOAD_SEARCH=0 LOAD_LOOKUP=1 LOAD_CHECK=1 wrk -t1 -c"$others" -d"${seconds}s" --latency \
  -s scripts/load.lua $url > target/load-others.log &
other=$!
search -t2 -c"$(( connections - others ))" -d"${seconds}s" --latency
wait $other
echo "== the TM lookups and checks of that run:"; cat target/load-others.log
echo "== term searches only, import running"
search -t2 -c"$connections" -d"${seconds}s"
echo "== search cache:"; curl -s -H "Authorization: Bearer $key" $url/metrics | grep "^hexaglot_search_cache"
kill $importer $server 2>/dev/null || true; wait $server 2>/dev/null || true

echo "== term searches only, import running, response cache off (--search-cache 0)"
start_server --search-cache 0
start_imports
search -t2 -c"$connections" -d"${seconds}s"
kill $importer 2>/dev/null || true
echo "== imports during the runs (count, HTTP status, fastest and slowest):"
awk '{n[$2]++; t=$3+0; if (!($2 in lo) || t < lo[$2]) lo[$2]=t; if (t > hi[$2]) hi[$2]=t}
  END {for (s in n) printf "%d imports, status %s, %.1f-%.1f s\n", n[s], s, lo[s], hi[s]}' target/load-imports.log
echo "imports that changed nothing (no commit): $(grep -c '"added":0,"updated":0,"unchanged":[0-9]*,"removed":0' target/load-imports.log)"
