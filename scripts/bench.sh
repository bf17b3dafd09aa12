#!/usr/bin/env bash
# End-to-end benchmark of `calibrate sweep` (load, sweep, recommend, write the report) on
# generated eval sets of 1 and 10 million rows in JSON Lines, CSV and Parquet, and the JSON Lines
# file compressed with gzip (-6) and zstd (-3): MB/s counts the decompressed bytes.
#
#   scripts/bench.sh [ROWS...]        default: 1000000 10000000
#
# Needs hyperfine (Debian: apt-get install hyperfine), GNU time (/usr/bin/time) for peak
# memory, gzip and zstd. Data goes to ${BENCH_DIR:-/tmp/calibrate-bench}; files are generated once (seed 7) and
# reused. Timings are with a warm page cache (one warm-up run).
set -euo pipefail
cd "$(dirname "$0")/.."
rows=("$@")
[ ${#rows[@]} -gt 0 ] || rows=(1000000 10000000)
dir=${BENCH_DIR:-/tmp/calibrate-bench}
mkdir -p "$dir"
cargo build --release --quiet --bin calibrate --example gen_eval
bin=target/release/calibrate
gen=target/release/examples/gen_eval

for n in "${rows[@]}"; do
  for ext in jsonl csv parquet; do
    f="$dir/eval-$n.$ext"
    [ -s "$f" ] || "$gen" "$n" 7 "$f"
  done
  [ -s "$dir/eval-$n.jsonl.gz" ] || gzip -6 -c "$dir/eval-$n.jsonl" > "$dir/eval-$n.jsonl.gz"
  [ -s "$dir/eval-$n.jsonl.zst" ] || zstd -q -3 -c "$dir/eval-$n.jsonl" > "$dir/eval-$n.jsonl.zst"
done

printf '%-26s %10s %10s %10s %12s\n' file size mean_s MB_per_s peak_RSS_MB
for n in "${rows[@]}"; do
  for ext in jsonl csv parquet jsonl.gz jsonl.zst; do
    f="$dir/eval-$n.$ext"
    out="$dir/report-$n-$ext"
    # Throughput in bytes of records: a compressed file counts its decompressed size.
    size=$(stat -c %s "$dir/eval-$n.${ext%%.*}")
    hyperfine --warmup 1 --runs 3 --export-json "$dir/h.json" --style none \
      "$bin sweep $f --out $out --quiet" >/dev/null
    mean=$(python3 -c "import json;print(json.load(open('$dir/h.json'))['results'][0]['mean'])")
    rss=$( { /usr/bin/time -f '%M' "$bin" sweep "$f" --out "$out" --quiet >/dev/null; } 2>&1 | tail -1)
    python3 -c "print('%-26s %9.0fM %10.2f %10.0f %12.0f' % ('$(basename "$f")', $size/1e6, $mean, $size/1e6/$mean, $rss/1024))"
  done
done
