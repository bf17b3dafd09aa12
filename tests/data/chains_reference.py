#!/usr/bin/env python3
"""Reference numbers for calibrate's RouteLLM and RouterBench metric forms (issue 16).

Reimplements, with the same numpy and pandas calls, the metric code of
  - RouteLLM, routellm/evals/benchmarks.py (`evaluate`: 11 edges from pd.qcut(score, 10,
    retbins=True), `score >= edge`, the last edge `>`) and routellm/evals/evaluate.py
    (`generate_results`: AUC by np.trapz over strong-call fraction, APGR, and the "50% qual" /
    "80% qual" calls by np.interp);
  - RouterBench, its `get_non_descreasing_convex_hull_of` (the O(n^3) pairwise hull) and
    `calc_AIQ` (extend each hull to the largest x, np.trapz, divide by that x).
Writes tests/data/chains_reference.json, which src/engine/chains/metrics.rs compares to 1e-9.

Run: python3 -m venv /tmp/v && /tmp/v/bin/pip install numpy pandas &&
     /tmp/v/bin/python tests/data/chains_reference.py
(numpy 2 renamed np.trapz to np.trapezoid, the same code; either is used.)
"""
import json
import os

import numpy as np
import pandas as pd

trapz = getattr(np, "trapz", None) or np.trapezoid


def routellm(conf, weak_q, strong_q):
    """APGR, CPT(50%), CPT(80%) for a pair whose router score is -confidence, or None where
    pd.qcut raises."""
    score = pd.Series([-c for c in conf])
    weak_q = np.array(weak_q, dtype=float)
    strong_q = np.array(strong_q, dtype=float)
    try:
        _, thresholds = pd.qcut(score, 10, retbins=True)
    except ValueError:
        return None
    rows = []
    for i, t in enumerate(thresholds):
        sel = score >= t if i != len(thresholds) - 1 else score > t
        results = np.where(sel, strong_q, weak_q)
        rows.append(
            {
                "strong_percentage": int(sel.sum()) / len(results) * 100,
                "accuracy": sum(results) / len(results) * 100,
            }
        )
    df = pd.DataFrame(rows).sort_values(by=["strong_percentage"])
    weak_acc = weak_q.mean() * 100
    strong_acc = strong_q.mean() * 100
    x = df["strong_percentage"] / 100
    auc = trapz(df["accuracy"], x)
    weak_auc = trapz(np.full(len(df), weak_acc), x)
    strong_auc = trapz(np.full(len(df), strong_acc), x)

    def cpt(p):
        return float(
            np.interp(p * (strong_acc - weak_acc) + weak_acc, df["accuracy"], df["strong_percentage"])
        )

    return {
        "apgr": float((auc - weak_auc) / (strong_auc - weak_auc)),
        "cpt50": cpt(0.5),
        "cpt80": cpt(0.8),
    }


def ndch(points):
    """RouterBench's non-decreasing hull, step for step."""
    pts = points[points[:, 0].argsort()]
    new = []
    for i in range(len(pts)):
        for j in range(i, len(pts)):
            x1, y1 = pts[i]
            x2, y2 = pts[j]
            for k in range(len(pts)):
                x, y = pts[k]
                if x1 < x < x2:
                    iy = np.interp(x, [x1, x2], [y1, y2])
                    cand = iy if y < iy else y
                    xs = [mx for mx, _ in new]
                    if x not in xs:
                        new.append([x, cand])
                    else:
                        for m in range(len(new)):
                            if new[m][0] == x and new[m][1] < cand:
                                new[m] = [x, cand]
                                break
    if pts[-1][0] not in [mx for mx, _ in new]:
        if pts[-1][1] >= new[-1][1]:  # IndexError when no point is inside
            new.append(list(pts[-1]))
    if pts[0][0] not in [mx for mx, _ in new]:
        new = [list(pts[0])] + new
    new = np.array(new)
    new = new[new[:, 0].argsort()]
    drop = [i for i in range(1, len(new)) if new[i][1] < new[i - 1][1]]
    return np.delete(new, drop, axis=0)


def aiq(routers):
    hulls = []
    for r in routers:
        try:
            hulls.append(ndch(np.array(r, dtype=float)) if len(r) >= 2 else None)
        except IndexError:
            hulls.append(None)
    max_x = max(np.max(h[:, 0]) for h in hulls if h is not None)
    out = []
    for h in hulls:
        if h is None:
            out.append(None)
            continue
        h = np.vstack((h, np.array([max_x, h[-1, 1]])))
        out.append(float(trapz(h[:, 1], h[:, 0]) / max_x))
    return {"values": out, "max_cost": float(max_x)}


def main():
    rng = np.random.default_rng(16)
    pairs = []
    for case in range(12):
        n = int(rng.integers(20, 120))
        levels = [None, 5, 11, 3][case % 4]  # None: continuous; else coarse (ties)
        if levels is None:
            conf = rng.random(n).round(6)
        else:
            conf = rng.integers(0, levels, n) / (levels - 1)
        # Correctness loosely tied to confidence (from case 8 on, against it, so the accuracy
        # curve is not increasing and np.interp's search path matters); the strong model
        # mostly better.
        slope = 0.5 if case < 8 else -0.6
        weak_q = (rng.random(n) < 0.5 + slope * (conf - 0.4)).astype(float)
        strong_q = (rng.random(n) < 0.75).astype(float)
        pairs.append(
            {
                "confidence": [float(c) for c in conf],
                "weak_quality": weak_q.tolist(),
                "strong_quality": strong_q.tolist(),
                "routellm": routellm(conf, weak_q, strong_q),
            }
        )
    aiq_sets = []
    for case in range(6):
        routers = []
        for _ in range(int(rng.integers(2, 5))):
            m = int(rng.integers(1, 12))
            cost = np.sort(rng.random(m) * 10).round(4)
            qual = (rng.random(m) * 0.5 + 0.4).round(4)
            routers.append([[float(c), float(q)] for c, q in zip(cost, qual)])
        aiq_sets.append({"routers": routers, "aiq": aiq(routers)})
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "chains_reference.json"), "w") as f:
        json.dump(
            {"numpy": np.__version__, "pandas": pd.__version__, "pairs": pairs, "aiq": aiq_sets},
            f,
            indent=1,
        )
        f.write("\n")


if __name__ == "__main__":
    main()
