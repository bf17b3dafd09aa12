"""Times calibrate against its Python peers on one JSON Lines eval set, in one run.

    bench_peers.py CALIBRATE FILE.jsonl [--runs N] [--out DIR] [--no-peers] [--formats FILE...]

Prints, for the same file and the same warm page cache: `calibrate sweep` (full report) and
`calibrate recommend`, best of N wall-clock runs with their throughput and peak memory (and the
median run); polars' `read_ndjson` alone (no sweep); and the pandas/numpy sweep an analyst
would write (read, sort, cumulative sums at every distinct threshold, pick the best). Then the
ratios: how many times faster calibrate is than each peer. Run by scripts/bench.sh inside a
virtual environment that holds the pinned pandas and polars; not part of CI. With --formats,
also times `calibrate sweep` on each FILE (CSV, Parquet, compressed JSON Lines: MB/s counts the
decompressed bytes).
"""

import argparse
import gc
import os
import subprocess
import sys
import time


def best_of(runs, fn):
    """Best wall-clock seconds of `runs` calls of fn(), the CPU seconds (user + system, all
    threads) of that run, the highest peak RSS in bytes fn() returned (None: not known), and the
    median wall-clock seconds (a shared machine's speed drifts from run to run, so the median
    says how far the best is from typical)."""
    best, cpu, peak, walls = float("inf"), 0.0, 0, []
    for _ in range(runs):
        start = time.perf_counter()
        rss, seconds = fn()
        wall = time.perf_counter() - start
        walls.append(wall)
        if wall < best:
            best, cpu = wall, seconds
        peak = max(peak, rss or 0)
    walls.sort()
    middle = len(walls) // 2
    median = walls[middle] if len(walls) % 2 else (walls[middle - 1] + walls[middle]) / 2
    return best, cpu, peak, median


def run_child(argv):
    """Runs argv with stdout and stderr discarded; returns its peak RSS in bytes (Linux reports
    KiB) and its CPU seconds."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        sys.exit(f"bench: {' '.join(argv)} failed with status {status}")
    return usage.ru_maxrss * 1024, usage.ru_utime + usage.ru_stime


def in_process(fn):
    """Runs fn() here; returns no peak RSS (the interpreter's own is not the work's) and the CPU
    seconds of every thread of this process."""
    start = time.process_time()
    fn()
    return None, time.process_time() - start


def polars_read(path):
    import polars as pl

    frame = pl.read_ndjson(path)
    assert frame.height > 0
    del frame
    gc.collect()


def pandas_sweep(path, min_quality=0.9):
    """The sweep an analyst would write: one row per distinct threshold, the cheapest one whose
    cascade quality meets the target."""
    import numpy as np
    import pandas as pd

    df = pd.read_json(path, lines=True)
    df = df.sort_values("confidence", ascending=False, kind="stable")
    n = len(df)
    conf = df["confidence"].to_numpy()
    accepted_small_q = np.cumsum(df["small_quality"].to_numpy())
    accepted_large_q = np.cumsum(df["large_quality"].to_numpy())
    accepted_large_cost = np.cumsum(df["large_cost"].to_numpy())
    # The last row of each tie group is the cut for that threshold.
    last = np.r_[conf[1:] != conf[:-1], True]
    large_q_total = accepted_large_q[-1]
    quality = (accepted_small_q[last] + large_q_total - accepted_large_q[last]) / n
    cost = (df["small_cost"].sum() + accepted_large_cost[-1] - accepted_large_cost[last]) / n
    sweep = pd.DataFrame({"threshold": conf[last], "quality": quality, "cost": cost})
    ok = sweep[sweep["quality"] >= min_quality]
    best = ok.loc[ok["cost"].idxmin()] if len(ok) else None
    del df
    gc.collect()
    return best


def main():
    p = argparse.ArgumentParser()
    p.add_argument("calibrate")
    p.add_argument("file")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--out", default="/tmp/calibrate-bench/report")
    p.add_argument("--no-peers", action="store_true", help="time calibrate only")
    p.add_argument("--formats", nargs="*", default=[], help="more files to time sweep on")
    a = p.parse_args()
    size = os.path.getsize(a.file)
    mb = size / 1e6
    rows = []

    def row(name, seconds, cpu, rss, median, megabytes=mb):
        rows.append((name, seconds))
        mem = f"{rss / 1e6:8.0f}" if rss else f"{'-':>8}"
        print(f"{name:<34} {seconds:8.2f} {megabytes / seconds:8.0f} {cpu:8.2f} {mem} "
              f"{median:9.2f}", flush=True)

    print(f"{os.path.basename(a.file)}: {mb:.0f} MB, best of {a.runs} runs, warm cache")
    print(f"{'run':<34} {'time_s':>8} {'MB/s':>8} {'cpu_s':>8} {'peak_MB':>8} {'median_s':>9}")
    sweep = [a.calibrate, "sweep", a.file, "--out", a.out, "--quiet"]
    # --quiet keeps stderr to errors; the summary on stdout is discarded.
    recommend = [a.calibrate, "recommend", a.file, "--min-quality", "0.9", "--quiet"]
    run_child(sweep)  # warm the page cache
    row("calibrate sweep (full report)", *best_of(a.runs, lambda: run_child(sweep)))
    row("calibrate recommend", *best_of(a.runs, lambda: run_child(recommend)))
    # The formats are timed before the peers load pandas: a child's peak RSS counts the
    # interpreter it was forked from until it execs.
    formats = []
    for f in a.formats:
        # A compressed file counts its decompressed bytes: the JSON Lines file beside it.
        plain = f.removesuffix(".gz").removesuffix(".zst")
        argv = [a.calibrate, "sweep", f, "--out", a.out, "--quiet"]
        run_child(argv)
        formats.append((f, plain, best_of(a.runs, lambda: run_child(argv))))
    if not a.no_peers:
        import pandas
        import polars

        row(f"polars {polars.__version__} read_ndjson only",
            *best_of(a.runs, lambda: in_process(lambda: polars_read(a.file))))
        row(f"pandas {pandas.__version__} sweep", *best_of(a.runs, lambda: in_process(lambda: pandas_sweep(a.file))))
        sweep_s, rec_s = rows[0][1], rows[1][1]
        polars_s, pandas_s = rows[2][1], rows[3][1]
        print()
        print(f"polars read / calibrate sweep:      {polars_s / sweep_s:5.2f}x")
        print(f"polars read / calibrate recommend:  {polars_s / rec_s:5.2f}x")
        print(f"pandas sweep / calibrate sweep:     {pandas_s / sweep_s:5.1f}x")
        print(f"pandas sweep / calibrate recommend: {pandas_s / rec_s:5.1f}x")
    if a.formats:
        print()
        print(f"{'calibrate sweep on':<34} {'time_s':>8} {'MB/s':>8} {'cpu_s':>8} {'peak_MB':>8} "
              f"{'median_s':>9}")
    for f, plain, (seconds, cpu, rss, median) in formats:
        row(os.path.basename(f), seconds, cpu, rss, median, os.path.getsize(plain) / 1e6)

if __name__ == "__main__":
    main()
