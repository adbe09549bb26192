#!/usr/bin/env bash
# Long fuzzing runs of the readers and the analysis pipeline (tests/it/fuzz.rs), one target at a
# time, each for MINUTES minutes (default 10) of fresh random cases: prints the cases run and the
# time taken, the figures BENCHMARKS.md records. A failure prints proptest's minimal failing input;
# keep it in tests/fixtures/fuzz/<format>-<name> so that `found_crashes_stay_fixed` replays it.
#
#   scripts/fuzz.sh [MINUTES]
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-10}
# the test binary, run directly (cargo would hold the build directory's lock all along)
bin=$(cargo test --release --test it --no-run 2>&1 | sed -n 's/.*Executable .* (\(.*\))$/\1/p')
for target in tbx_reader tmx_reader xliff_reader csv_reader analysis_offsets; do
  HEXAGLOT_FUZZ_CASES=500 HEXAGLOT_FUZZ_SECONDS=$((minutes * 60)) \
    "$bin" -q "fuzz::${target}" --nocapture 2>&1 | grep -E "^fuzz |panicked|FAILED|test result"
done
