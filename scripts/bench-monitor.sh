#!/usr/bin/env bash
# Log-reading benchmark for `calibrate monitor` (issue 17), against the eval loader in the same
# run:
#
#   scripts/bench-monitor.sh [DAYS] [PER_DAY]     default 10 days × 100,000 = 1 M log records
#
# Generates (once, seeded, under ${BENCH_DIR:-/tmp/calibrate-bench}) production-like logs with
# examples/gen_logs.rs against reports/example/summary.json, their CSV form, and an eval set of
# as many records with examples/gen_eval.rs (seed 7, as scripts/bench.sh). Prints, best of
# BENCH_RUNS=2 runs with a warm page cache: `calibrate monitor` on the JSON Lines and CSV logs,
# and `calibrate recommend` on the eval set's JSON Lines and CSV (the eval loader plus the
# sweep), each with wall time, CPU time, MB/s and peak memory.
set -euo pipefail
cd "$(dirname "$0")/.."
days=${1:-10}
per_day=${2:-100000}
n=$((days * per_day))
dir=${BENCH_DIR:-/tmp/calibrate-bench}
runs=${BENCH_RUNS:-2}
mkdir -p "$dir"
cargo build --release --locked --quiet --bin calibrate --example gen_logs --example gen_eval
bin=target/release/calibrate
logs="$dir/logs-$n.jsonl"
[ -s "$logs" ] || target/release/examples/gen_logs reports/example/summary.json 1 "$days" "$per_day" > "$logs"
[ -s "$dir/logs-$n.csv" ] || python3 - "$logs" "$dir/logs-$n.csv" <<'PY'
import csv, json, sys
cols = ["timestamp", "task_type", "confidence", "escalated", "small_cost", "large_cost",
        "regenerated", "thumbs_down", "latency_ms", "small_quality"]
with open(sys.argv[1]) as f, open(sys.argv[2], "w", newline="") as g:
    w = csv.writer(g)
    w.writerow(cols)
    for line in f:
        r = json.loads(line)
        cell = lambda v: "" if v is None else str(v).lower() if isinstance(v, bool) else v
        w.writerow([cell(r.get(c)) for c in cols])
PY
for ext in jsonl csv; do
  [ -s "$dir/eval-$n.$ext" ] || target/release/examples/gen_eval "$n" 7 "$dir/eval-$n.$ext"
done

# best of $runs: "wall user sys peak_kb"
best() {
  local out="" t
  local tmp
  tmp=$(mktemp)
  for _ in $(seq "$runs"); do
    /usr/bin/time -o "$tmp" -f '%e %U %S %M' "$@" >/dev/null 2>&1 || true
    t=$(tail -1 "$tmp")
    if [ -z "$out" ] || awk -v a="$t" -v b="$out" 'BEGIN { split(a, x, " "); split(b, y, " "); exit !(x[1] < y[1]) }'; then
      out=$t
    fi
  done
  rm -f "$tmp"
  echo "$out"
}
row() {
  local label=$1 file=$2
  shift 2
  local bytes r
  bytes=$(stat -c %s "$file")
  r=$(best "$@")
  awk -v l="$label" -v b="$bytes" -v r="$r" 'BEGIN {
    split(r, x, " ");
    printf "%-34s %8.0f MB %7.2f s %7.2f s CPU %7.0f MB/s %7.0f MB peak\n", l, b / 1e6, x[1], x[2] + x[3], b / 1e6 / x[1], x[4] / 1024
  }'
}
echo "$n records each; best of $runs runs; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
row "monitor, logs JSON Lines" "$logs" "$bin" monitor "$logs" --against reports/example/summary.json --out "$dir/monitor-report" --quiet
row "recommend, eval set JSON Lines" "$dir/eval-$n.jsonl" "$bin" recommend "$dir/eval-$n.jsonl" --min-quality 0.9 --quiet
row "monitor, logs CSV" "$dir/logs-$n.csv" "$bin" monitor "$dir/logs-$n.csv" --against reports/example/summary.json --out "$dir/monitor-report" --quiet
row "recommend, eval set CSV" "$dir/eval-$n.csv" "$bin" recommend "$dir/eval-$n.csv" --min-quality 0.9 --quiet
