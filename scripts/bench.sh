#!/usr/bin/env bash
# End-to-end benchmark of calibrate against its Python peers, from one run:
#
#   scripts/bench.sh [ROWS...]        default: 1000000 (add 10000000 for the memory check)
#
# For each ROWS it generates a seeded eval set (examples/gen_eval.rs, seed 7) in JSON Lines, CSV
# and Parquet, plus the JSON Lines file compressed with gzip (-6) and zstd (-3), and prints
# (scripts/bench_peers.py; best and median of BENCH_RUNS=5 runs, warm page cache, peak memory
# per run):
# - on the JSON Lines file: `calibrate sweep` with its full report and `calibrate recommend`
#   (time, MB/s), polars' bare `read_ndjson`, a pandas sweep, and the ratios between them;
# - `calibrate sweep` on every format, MB/s counting decompressed bytes.
#
# The Python peers live in a virtual environment of their own, ${BENCH_DIR}/venv, with pinned
# versions (made once; needs network access to PyPI the first time); not part of CI. Data goes to
# ${BENCH_DIR:-/tmp/calibrate-bench}, generated once and reused. Needs python3, gzip and zstd.
# BENCH_BIN=path/to/calibrate times another build (e.g. an older one) against the same data.
set -euo pipefail
cd "$(dirname "$0")/.."
rows=("$@")
[ ${#rows[@]} -gt 0 ] || rows=(1000000)
dir=${BENCH_DIR:-/tmp/calibrate-bench}
runs=${BENCH_RUNS:-5}
mkdir -p "$dir"
cargo build --release --locked --quiet --bin calibrate --example gen_eval
bin=${BENCH_BIN:-target/release/calibrate}
gen=target/release/examples/gen_eval

venv="$dir/venv"
if ! "$venv/bin/python" -c 'import pandas, polars' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet polars==2.1.0 pandas==3.1.1
fi

for n in "${rows[@]}"; do
  for ext in jsonl csv parquet; do
    f="$dir/eval-$n.$ext"
    [ -s "$f" ] || "$gen" "$n" 7 "$f"
  done
  [ -s "$dir/eval-$n.jsonl.gz" ] || gzip -6 -c "$dir/eval-$n.jsonl" > "$dir/eval-$n.jsonl.gz"
  [ -s "$dir/eval-$n.jsonl.zst" ] || zstd -q -3 -c "$dir/eval-$n.jsonl" > "$dir/eval-$n.jsonl.zst"
done

for n in "${rows[@]}"; do
  peers=()
  # The pandas sweep of ten million rows takes minutes and most of the machine's memory.
  [ "$n" -le 1000000 ] || peers=(--no-peers)
  "$venv/bin/python" scripts/bench_peers.py "$bin" "$dir/eval-$n.jsonl" --runs "$runs" \
    --out "$dir/report-$n" "${peers[@]}" \
    --formats "$dir/eval-$n".{jsonl,csv,parquet,jsonl.gz,jsonl.zst}
  echo
done
