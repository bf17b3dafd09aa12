#!/usr/bin/env bash
# Benchmark of issue 18's aggregate, from one run:
#
#   scripts/bench-aggregate.sh [ROWS]      default: 10000000
#
# On the seeded eval set of scripts/bench.sh (examples/gen_eval.rs, seed 7; generated once into
# ${BENCH_DIR:-/tmp/calibrate-bench}) it prints time and peak memory of:
# - `calibrate aggregate` on the JSON Lines file (read in parts: memory holds one part) and on
#   the Parquet file (read in slices of rows);
# - the same through a pipe, the file ten times over (10 x ROWS records, flat memory);
# - `calibrate recommend` on the JSON Lines file, for comparison;
# - `calibrate recommend` on the aggregate;
# - the `calibrate sql --dialect duckdb` query on DuckDB over the Parquet file, and over the
#   Parquet file listed ten times (10 x ROWS records), each written to Parquet;
# and checks that DuckDB's table, re-aggregated, equals calibrate's byte for byte.
# DuckDB comes from .venv-engines (scripts/test.sh makes it). Not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000000}
dir=${BENCH_DIR:-/tmp/calibrate-bench}
mkdir -p "$dir"
cargo build --release --locked --quiet --bin calibrate --example gen_eval
bin=$PWD/target/release/calibrate
py=$PWD/.venv-engines/bin/python
[ -x "$py" ] || { echo "run scripts/test.sh once first (it makes .venv-engines with DuckDB)" >&2; exit 1; }
for ext in jsonl parquet; do
  [ -s "$dir/eval-$n.$ext" ] || target/release/examples/gen_eval "$n" 7 "$dir/eval-$n.$ext"
done
cd "$dir"
measure() { # label, command...
  local label=$1; shift
  /usr/bin/time -f "$label: %e s, peak %M KB" "$@" > /dev/null 2> time.err || { cat time.err >&2; exit 1; }
  grep -v '^wrote' time.err | tail -1
}
measure "calibrate aggregate, $n records (JSON Lines)" "$bin" aggregate "eval-$n.jsonl" --out agg.parquet -q
measure "calibrate aggregate, 10 x $n records through a pipe" bash -c \
  "for i in 1 2 3 4 5 6 7 8 9 10; do cat eval-$n.jsonl; done | $bin aggregate - --format jsonl --out agg10.parquet -q"
measure "calibrate aggregate, $n records (Parquet, read in slices)" "$bin" aggregate "eval-$n.parquet" --out aggp.parquet -q
measure "calibrate recommend, $n records (JSON Lines)" "$bin" recommend "eval-$n.jsonl" -q
measure "calibrate recommend on the aggregate" "$bin" recommend agg.parquet
"$bin" sql --dialect duckdb --table "read_parquet('eval-$n.parquet')" --latency > q1.sql
# Ten times over with UNION ALL (DuckDB reads a file listed twice in read_parquet([...]) once).
union=$(printf "SELECT * FROM read_parquet('eval-$n.parquet') UNION ALL %.0s" {1..10})
"$bin" sql --dialect duckdb --table "(${union% UNION ALL }) AS evals" --latency > q10.sql
cat > duck.py <<'PY'
import sys, duckdb
con = duckdb.connect()
con.sql(open(sys.argv[1]).read()).write_parquet(sys.argv[2])
PY
measure "DuckDB, the generated SQL on $n records (Parquet)" "$py" duck.py q1.sql duck.parquet
measure "DuckDB, the generated SQL on 10 x $n records (Parquet)" "$py" duck.py q10.sql duck10.parquet
"$bin" aggregate duck.parquet --out duck-again.parquet -q 2>/dev/null
"$bin" aggregate duck10.parquet --out duck10-again.parquet -q 2>/dev/null
cmp duck-again.parquet agg.parquet && cmp aggp.parquet agg.parquet \
  && echo "DuckDB's table equals calibrate's (from JSON Lines and from Parquet), byte for byte"
cmp duck10-again.parquet agg10.parquet && echo "(and on 10 x $n records)"
