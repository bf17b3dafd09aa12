#!/usr/bin/env bash
# Chain search benchmark (issue 16): five models × PROMPTS prompts (default 20000), all 31
# chains (26 of two or more models), timed end to end with a release build.
#
#   scripts/bench-chains.sh [PROMPTS] [DECIMALS]
#
# Generates the set once with examples/gen_multi.rs (seed 16; DECIMALS decimals of confidence,
# default 2, as LLMs verbalise them: up to 101 distinct values per model; 3 gives up to 1001)
# under ${BENCH_DIR:-/tmp/calibrate-bench},
# then prints the wall time of `calibrate recommend` (search, pick) and `calibrate sweep` (the
# whole report: every chain's frontier metrics, the grid's gap, the bootstrap, plots), and how
# each chain was searched (exact, or the grid size) from chains.csv. CALIBRATE=path times another
# build instead (e.g. an older commit's, for before/after figures) and skips the build.
set -euo pipefail
cd "$(dirname "$0")/.."
prompts=${1:-20000}
decimals=${2:-2}
dir=${BENCH_DIR:-/tmp/calibrate-bench}
mkdir -p "$dir"
if [ -z "${CALIBRATE:-}" ]; then
    cargo build --release --locked --quiet --bin calibrate --example gen_multi
fi
bin=${CALIBRATE:-target/release/calibrate}
data="$dir/multi-$prompts-$decimals.jsonl"
[ -s "$data" ] || cargo run --release --locked --quiet --example gen_multi -- \
    "$prompts" 16 "$data" "$decimals"
echo "five models × $prompts prompts, confidences to $decimals decimals, $bin, $(nproc) cores"
echo "$data: $(wc -l < "$data") records, $(du -h "$data" | cut -f1)"
stamp() { date +%s.%N; }
t0=$(stamp)
"$bin" recommend "$data" --max-quality-loss 0.01 --quiet
t1=$(stamp)
"$bin" sweep "$data" --max-quality-loss 0.01 --quiet --out "$dir/chains-report" >/dev/null
t2=$(stamp)
printf 'recommend: %.2f s\nsweep (full report): %.2f s\n' "$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t1" | bc)"
echo "chains by search (stages, search):"
tail -n +2 "$dir/chains-report/chains.csv" | awk -F, '{print $3" stages: "$12}' | sort | uniq -c
