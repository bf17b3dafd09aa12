#!/usr/bin/env bash
# The test command: every test, the engine tests included. Installs DuckDB and PySpark (pinned in
# scripts/engines-requirements.txt) into .venv-engines on first use (about a minute; needs PyPI
# and Java 17+ for Spark), then runs `cargo test --locked` with CALIBRATE_ENGINES_PYTHON set, so
# the generated SQL runs on DuckDB and on Spark in local mode. Plain `cargo test` skips those two
# engines and says so. Extra arguments go to cargo test.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv-engines
requirements=scripts/engines-requirements.txt
if ! cmp -s "$requirements" "$venv/installed.txt" 2>/dev/null; then
    command -v java >/dev/null || { echo "scripts/test.sh: Spark needs java (17 or newer)" >&2; exit 1; }
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
    cp "$requirements" "$venv/installed.txt"
fi
export CALIBRATE_ENGINES_PYTHON="$PWD/$venv/bin/python"
export CALIBRATE_REQUIRE_ENGINES=1
exec cargo test --locked "$@"
