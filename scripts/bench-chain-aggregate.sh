#!/usr/bin/env bash
# Chain aggregate benchmark (issue 18 for chains): five models × PROMPTS prompts (default
# 200000, one million records), confidences to two decimals, from examples/gen_multi.rs (seed 16).
#
#   scripts/bench-chain-aggregate.sh [PROMPTS]
#
# Prints, with GNU time's wall clock and peak memory: `calibrate aggregate` of the JSON Lines
# set (exact keys, and at --resolution 4), `calibrate recommend` on the set and on its
# aggregate; and, when BENCH_PYTHON names a Python with duckdb (e.g. .venv-engines/bin/python),
# the `calibrate sql --models` query on DuckDB over the same records as Parquet. Data lives
# under ${BENCH_DIR:-/tmp/calibrate-bench}. CALIBRATE=path times another build.
set -euo pipefail
cd "$(dirname "$0")/.."
prompts=${1:-200000}
dir=${BENCH_DIR:-/tmp/calibrate-bench}
mkdir -p "$dir"
if [ -z "${CALIBRATE:-}" ]; then
    cargo build --release --locked --quiet --bin calibrate --example gen_multi
fi
bin=${CALIBRATE:-target/release/calibrate}
data="$dir/multi-$prompts-2.jsonl"
[ -s "$data" ] || cargo run --release --locked --quiet --example gen_multi -- \
    "$prompts" 16 "$data" 2
echo "five models × $prompts prompts, $bin, $(nproc) cores; $data: $(du -h "$data" | cut -f1)"
measure() {
    local label=$1
    shift
    /usr/bin/time -f "%e %M" -o "$dir/time.txt" "$@" >/dev/null 2>"$dir/err.txt" || {
        cat "$dir/err.txt"
        return 1
    }
    read -r secs kb < "$dir/time.txt"
    printf '%-46s %6.2f s  %6d MB\n' "$label" "$secs" "$((kb / 1024))"
}
measure "aggregate (exact keys)" "$bin" aggregate "$data" --quiet --out "$dir/chain-agg.parquet"
measure "aggregate --resolution 4" "$bin" aggregate "$data" --quiet --resolution 4 \
    --out "$dir/chain-agg4.parquet"
measure "recommend on the records" "$bin" recommend "$data" --max-quality-loss 0.01 --quiet
measure "recommend on the aggregate" "$bin" recommend "$dir/chain-agg.parquet" \
    --max-quality-loss 0.01 --quiet
measure "recommend on the --resolution 4 aggregate" "$bin" recommend "$dir/chain-agg4.parquet" \
    --max-quality-loss 0.01 --quiet
for f in chain-agg chain-agg4; do
    echo "$f.parquet: $(du -h "$dir/$f.parquet" | cut -f1)"
done
if [ -n "${BENCH_PYTHON:-}" ]; then
    models=$(head -c 100000 "$data" | grep -o '"model": *"[^"]*"' | sed 's/.*"\([^"]*\)"$/\1/' \
        | sort -u | paste -sd, -)
    "$bin" sql --dialect duckdb --table evals --models "$models" --latency > "$dir/chain.sql"
    "$BENCH_PYTHON" - "$data" "$dir" <<'PY'
import sys, time, duckdb
data, out = sys.argv[1], sys.argv[2]
con = duckdb.connect()
con.execute(f"COPY (SELECT * FROM read_json_auto('{data}')) TO '{out}/multi.parquet' (FORMAT parquet)")
con.execute(f"CREATE VIEW evals AS SELECT * FROM read_parquet('{out}/multi.parquet')")
query = open(f"{out}/chain.sql").read()
t = time.time()
con.sql(query).write_parquet(f"{out}/chain-duckdb.parquet")
print(f"{'DuckDB query over Parquet (2 threads)':<46} {time.time() - t:6.2f} s")
PY
    "$bin" aggregate "$dir/chain-duckdb.parquet" --quiet --out "$dir/chain-duckdb-again.parquet"
    if cmp -s "$dir/chain-duckdb-again.parquet" "$dir/chain-agg.parquet"; then
        echo "DuckDB's table re-aggregated equals the local one byte for byte"
    else
        echo "DuckDB's table DIFFERS from the local one"
    fi
fi
