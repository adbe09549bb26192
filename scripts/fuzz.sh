#!/usr/bin/env bash
# Long fuzzing runs of the readers and the analysis pipeline (tests/it/fuzz.rs), one target at a
# time, each for about MINUTES minutes (default 10): prints the cases run and the time taken, the
# figures BENCHMARKS.md records. A failure prints proptest's minimal failing input; keep it in
# tests/fixtures/fuzz/<format>-<name> so that `found_crashes_stay_fixed` replays it.
#
#   scripts/fuzz.sh [MINUTES]
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-10}
cargo test --release --test it --no-run >/dev/null 2>&1
for target in tbx_reader tmx_reader xliff_reader csv_reader analysis_offsets; do
  # calibrate: cases a second, from a 30-second run
  start=$(date +%s.%N)
  HEXAGLOT_FUZZ_CASES=2000 cargo test --release --test it -q "fuzz::${target}" >/dev/null
  took=$(echo "$(date +%s.%N) - $start" | bc)
  rate=$(echo "2000 / $took" | bc)
  cases=$(echo "$rate * 60 * $minutes" | bc)
  echo "fuzz ${target}: ${cases} cases (about ${minutes} min at ${rate}/s) ..."
  start=$(date +%s)
  HEXAGLOT_FUZZ_CASES=$cases cargo test --release --test it -q "fuzz::${target}" -- --nocapture
  echo "fuzz ${target}: ${cases} cases passed in $(( $(date +%s) - start )) s"
done
