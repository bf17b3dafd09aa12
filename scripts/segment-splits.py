#!/usr/bin/env python3
"""Held-out miss rates of the single threshold and of per-segment policies over random splits.

Issue 12, point 1: over random calibration/test splits, how often does each policy miss its
quality target on the test part? For every seed, `calibrate recommend --holdout F --seed S`
chooses on the calibration part and checks on the held-out part; this script counts the
held-out misses of the single threshold and of the per-segment policy, with the departure test
(`--segment-departures tested`, the default) and without it (`free`, the in-sample joint
optimum), and optionally with `--segment-floor`.

Data sets:
  example  data/example.jsonl, segments by task_type
  gastro   data/gastro-confidence: three real cascades on the same 300 questions stacked into
           one file with a `pair` column (gpt-4o-mini -> gpt-4o, Llama3.1-8B -> Llama3.1-405B,
           claude-3-haiku -> claude-3-opus), segments by pair; written to a temporary file from
           the unchanged CSV (costs: the default 1 vs 60 per request)

Usage:
  scripts/segment-splits.py [--bin target/debug/calibrate] [--splits 100] [--holdout 0.7]
  scripts/segment-splits.py --write-gastro /tmp/gastro-three-pairs.jsonl

Prints one Markdown table. Deterministic: seeds 1..N.
"""

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile

PAIRS = [
    ("gpt-4o-mini-2024-07-18", "gpt-4o-2024-05-13"),
    ("Llama3.1-8B", "Llama3.1-405B"),
    ("claude-3-haiku-20240307", "claude-3-opus-20240229"),
]


def number(text):
    try:
        x = float(text)
    except ValueError:
        return None
    return x if x == x else None


def gastro_pairs(path):
    """The three cascades of the gastro CSV as one JSONL file; rows without a small-model
    confidence or a label are left out (as in the derived gastro JSONL)."""
    src = os.path.join("data", "gastro-confidence", "merged_confidence_correctness_new.csv")
    with open(src, newline="") as f:
        rows = list(csv.DictReader(f))
    with open(path, "w") as out:
        for small, large in PAIRS:
            for k, r in enumerate(rows):
                conf = number(r[f"{small}_confidence"].strip())
                sq = number(r[f"{small}_correctness"].strip())
                lq = number(r[f"{large}_correctness"].strip())
                if conf is None or sq is None or lq is None:
                    continue
                record = {
                    "id": f"{small}-{k:03d}",
                    "pair": small,
                    "confidence": conf / 10.0,
                    "small_quality": sq,
                    "large_quality": lq,
                }
                out.write(json.dumps(record) + "\n")


def run(binary, args):
    p = subprocess.run([binary, "recommend", *args, "--print", "json"], capture_output=True,
                       text=True)
    if p.returncode not in (0, 1):
        sys.exit(f"calibrate failed ({p.returncode}): {' '.join(args)}\n{p.stderr}")
    return json.loads(p.stdout)


def misses(binary, data, segment, target, extra, splits, holdout):
    """(single misses, single checked, policy misses, policy checked)."""
    counts = [0, 0, 0, 0]
    for seed in range(1, splits + 1):
        out = run(binary, [data, "--min-quality", str(target), "--segment-by", segment,
                           "--holdout", str(holdout), "--seed", str(seed), "--cross-fit", "0",
                           *extra])
        h = out.get("holdout") or {}
        if h.get("met_objective") is not None:
            counts[1] += 1
            counts[0] += not h["met_objective"]
        p = h.get("policy") or {}
        if p.get("met_objective") is not None:
            counts[3] += 1
            counts[2] += not p["met_objective"]
    return counts


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default="target/debug/calibrate")
    ap.add_argument("--splits", type=int, default=100)
    ap.add_argument("--holdout", type=float, default=0.7)
    ap.add_argument("--write-gastro", metavar="PATH",
                    help="only write the stacked gastro file to PATH and exit")
    a = ap.parse_args()
    if a.write_gastro:
        gastro_pairs(a.write_gastro)
        return
    tmp = tempfile.mkdtemp(prefix="segment-splits-")
    gastro = os.path.join(tmp, "gastro-three-pairs.jsonl")
    gastro_pairs(gastro)
    cases = [
        ("example", "data/example.jsonl", "task_type", 0.95, 0.85),
        ("example", "data/example.jsonl", "task_type", 0.85, 0.7),
        ("gastro (3 pairs)", gastro, "pair", 0.6, 0.55),
    ]
    rules = [("free", ["--segment-departures", "free"]),
             ("tested (default)", []),
             ("tested + floor", None)]
    print(f"{a.splits} random splits, {100 * (1 - a.holdout):.0f} % calibration / "
          f"{100 * a.holdout:.0f} % test (seeds 1..{a.splits})\n")
    print("| data | --min-quality | departures | single threshold missed | "
          "per-segment policy missed |")
    print("|---|---:|---|---:|---:|")
    for name, data, segment, target, floor in cases:
        for rule, extra in rules:
            if extra is None:
                rule = f"tested + --segment-floor {floor}"
                extra = ["--segment-floor", str(floor)]
            sm, sn, pm, pn = misses(a.bin, data, segment, target, extra, a.splits, a.holdout)
            pct = lambda m, n: f"{100 * m / n:.0f} % ({m}/{n})" if n else "–"
            print(f"| {name} | {target} | {rule} | {pct(sm, sn)} | {pct(pm, pn)} |")


if __name__ == "__main__":
    main()
