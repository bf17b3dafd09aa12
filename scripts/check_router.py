#!/usr/bin/env python3
"""Check that a router applies a calibrate policy the way the sweep assumed.

Usage:
    calibrate recommend EVAL.jsonl [flags] --print json > policy.json
    scripts/check_router.py EVAL.jsonl policy.json [--signal-field confidence] [--refusal-field F]

Routes every record of EVAL.jsonl with `escalate()` (the README's router, copy yours in its
place) and compares the escalation rate and non-escalated quality with the policy's `measured`
block. Derived signals must be present as a field (the signal's value per record); with a
recalibration, the raw signal is compared with `raw_threshold` / `default_raw_threshold`.
Records outside the policy's `where` conditions (calibrate's `--where`) are skipped. Reads plain
JSON Lines only (decompress first; a JSON array is not read). Exit status 0 when both agree to
1e-9, 1 otherwise. Standard library only.
"""
import argparse
import json
import math
import sys


def text(v):  # labels compare as text; numbers and booleans as their JSON text
    return v if isinstance(v, str) else json.dumps(v)


def escalate(policy, request, signal, refusal=False, timed_out=False, raw=False):
    """True to send the request to the large model (the README's router)."""
    if timed_out or (policy["escalate_refusals"] and refusal):
        return True
    if any(text(request.get(o["field"])) == o["value"] for o in policy.get("always_large", [])):
        return True
    key = "raw_threshold" if raw else "threshold"
    default = "default_raw_threshold" if raw else "default_threshold"
    threshold = policy.get(default, math.inf)  # absent: the rest goes large
    for seg in policy.get("segments", []):
        if all(text(request.get(k)) == v for k, v in seg["match"].items()):
            threshold = seg.get(key, math.inf)  # action always_large: no threshold
            break
    return not signal >= threshold


def apply_map(recalibration, x):
    """The exported recalibration map, computed as calibrate computes it."""
    if recalibration["method"] == "platt":
        return 1.0 / (1.0 + math.exp(min(recalibration["a"] * x + recalibration["b"], 709.0)))
    points = recalibration["points"]
    if x <= points[0][0]:
        return points[0][1]
    if x >= points[-1][0]:
        return points[-1][1]
    # The interval whose left end is the last breakpoint <= x; clamped to its ends.
    i = max(k for k in range(len(points) - 1) if points[k][0] <= x)
    (x0, y0), (x1, y1) = points[i], points[i + 1]
    return min(max(y0 + (y1 - y0) * ((x - x0) / (x1 - x0)), y0), y1)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("eval")
    p.add_argument("policy")
    p.add_argument("--signal-field", default=None, help="field holding the signal per record")
    p.add_argument("--quality-field", default="small_quality",
                   help="field holding the small model's quality per record")
    p.add_argument("--refusal-field", default=None, help="boolean field marking refusals")
    a = p.parse_args()
    doc = json.load(open(a.policy))
    policy = doc.get("policy", doc)
    if "signal" not in policy:
        sys.exit(f"{a.policy}: no policy (calibrate found none that meets the objective)")
    field = a.signal_field or policy["signal"]["name"]
    recalibration = policy["signal"].get("recalibration")
    # With a recalibration, compare the raw signal with the raw thresholds when they exist
    # (no interpolation rounding); otherwise map the signal first.
    raw = recalibration is not None and "default_raw_threshold" in policy
    n = accepted = 0
    right = 0.0
    for lineno, line in enumerate(open(a.eval), start=1):
        if not line.strip():
            continue
        r = json.loads(line)
        # The policy is for the traffic it was calibrated on (`--where`).
        if not all((text(r.get(c["field"])) == c["value"]) == (c["op"] == "=")
                   for c in policy.get("where", [])):
            continue
        n += 1
        for name, flag in ((field, "--signal-field"), (a.quality_field, "--quality-field")):
            if name not in r:
                sys.exit(
                    f"{a.eval}:{lineno}: no field {name!r}; name the column with {flag} "
                    f"COLUMN (the column calibrate read, e.g. with --field)"
                )
        refusal = bool(r.get(a.refusal_field)) if a.refusal_field else False
        signal = float(r[field])
        if recalibration is not None and not raw:
            signal = apply_map(recalibration, signal)
        if not escalate(policy, r, signal, refusal=refusal, raw=raw):
            accepted += 1
            right += float(r[a.quality_field])
    m = policy["measured"]
    rate = (n - accepted) / n
    quality = right / accepted if accepted else None
    ok = abs(rate - m["escalation_rate"]) < 1e-9 and (
        quality is None or abs(quality - m["non_escalated_quality"]) < 1e-9
    )
    print(f"router: escalation {rate:.6f}, quality {quality}")
    print(f"policy: escalation {m['escalation_rate']:.6f}, quality {m.get('non_escalated_quality')}")
    print("agree" if ok else "DISAGREE")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
