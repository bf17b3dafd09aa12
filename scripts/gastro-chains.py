#!/usr/bin/env python3
"""Converts the gastroenterology confidence set to calibrate's multi-model long form.

Usage: python3 scripts/gastro-chains.py
Reads data/gastro-confidence/merged_confidence_correctness_new.csv (unchanged third-party data,
see its README) and writes data/gastro-confidence/gastro-llama-chain.jsonl: one record per
question and model for five Llama models, with
  id          the question's row number (1-based) in the CSV,
  model       the model's column prefix,
  confidence  the self-reported confidence / 10,
  quality     the correctness (0/1),
  input_tokens, output_tokens  a fixed 250 and 150 (the source has no token counts; with one
              price per token in and out, only the relative prices matter).
A question is left out when any of the five models lacks a numeric confidence or correctness
(the script prints how many). Prices live in data/gastro-confidence/llama-prices.toml.
"""
import csv
import json
import os

MODELS = ["Llama-3.2-1b", "Llama-3.2-3b", "Llama3.1-8B", "Llama3.1-70B", "Llama3.1-405B"]
HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "gastro-confidence")


def number(text):
    try:
        return float(text)
    except ValueError:
        return None


def main():
    with open(os.path.join(HERE, "merged_confidence_correctness_new.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    out, skipped = [], 0
    for i, row in enumerate(rows, start=1):
        values = [(number(row[m + "_confidence"]), number(row[m + "_correctness"])) for m in MODELS]
        if any(c is None or q is None for c, q in values):
            skipped += 1
            continue
        for m, (c, q) in zip(MODELS, values):
            out.append(
                {"id": i, "model": m, "confidence": c / 10, "quality": q,
                 "input_tokens": 250, "output_tokens": 150}
            )
    with open(os.path.join(HERE, "gastro-llama-chain.jsonl"), "w") as f:
        for r in out:
            f.write(json.dumps(r) + "\n")
    print(f"{len(rows) - skipped} questions kept, {skipped} left out (a model without a number)")


if __name__ == "__main__":
    main()
