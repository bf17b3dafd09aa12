#!/usr/bin/env python3
"""Checks the layering of src/ that the README's Architecture section describes.

Usage: python3 scripts/check-architecture.py [--max-file 500] [--max-fn 80]

Fails (exit 1) on:
  - an import against the layer order input -> engine -> trust -> signals -> policy -> monitor
    -> report -> output (a module may use its own layer and the layers before it, never a later one);
  - any use of `cli` or `config` outside the edge (lib.rs, main.rs, commands/, config/), and any use of
    the crate by cli/;
  - an import cycle among modules (every file is a module; `crate::` and `super::` paths both
    count; a directory module's mod.rs re-exporting its children is not a cycle);
  - a file over --max-file lines or a function over --max-fn lines, test code excepted.
Exceptions would be listed in ALLOWED_LONG below, each with its reason (there are none).
"""
import argparse
import os
import re
import sys

LAYERS = ["input", "engine", "trust", "signals", "policy", "monitor", "report", "output"]
# commands/: command functions split out of lib.rs, the same layer.
EDGE = {"cli", "commands", "config", "lib", "main"}
# Long items kept on purpose: (path, function or None for the file) -> why.
ALLOWED_LONG = {}

ap = argparse.ArgumentParser()
ap.add_argument("--src", default="src")
ap.add_argument("--max-file", type=int, default=500)
ap.add_argument("--max-fn", type=int, default=80)
args = ap.parse_args()


def module_path(rel):
    parts = rel[:-3].split(os.sep)
    if parts[-1] == "mod":
        parts = parts[:-1]
    if parts in (["lib"], ["main"]):
        return parts
    return parts


def is_test(rel):
    parts = rel[:-3].split(os.sep)
    return parts[-1] == "tests" or "tests" in parts[:-1]


files = {}
for root, _, names in os.walk(args.src):
    for name in names:
        if name.endswith(".rs"):
            path = os.path.join(root, name)
            rel = os.path.relpath(path, args.src)
            if not is_test(rel):
                text = open(path, encoding="utf-8").read()
                cut = re.search(r"#\[cfg\(test\)\]\s*mod\s+\w+\s*\{", text)
                files[rel] = text[: cut.start()] if cut else text

modules = {tuple(module_path(rel)): rel for rel in files}
findings = []

# Paths: crate::a::b::c and super::x (resolved), in use lines and inline.
path_re = re.compile(r"\b(crate|super)((?:::[A-Za-z_][A-Za-z0-9_]*)+)")
group_re = re.compile(r"\buse\s+(crate|super)((?:::[a-z_][a-z0-9_]*)*)::\{([^;]*)\};", re.S)


def resolve(base, kind, tail, mod):
    segs = [s for s in tail.split("::") if s]
    if kind == "crate":
        start = []
    else:
        # `super` in a mod.rs or file module refers to the parent module.
        start = list(mod[:-1])
        while segs and segs[0] == "super":
            segs = segs[1:]
            start = start[:-1]
    full = start + segs
    # The longest prefix that is a module.
    for n in range(len(full), 0, -1):
        if tuple(full[:n]) in modules:
            return tuple(full[:n])
    return None


edges = {}
for rel, text in files.items():
    mod = tuple(module_path(rel))
    refs = set()
    for m in path_re.finditer(text):
        r = resolve(None, m.group(1), m.group(2), mod)
        if r:
            refs.add(r)
    for g in group_re.finditer(text):
        prefix = g.group(2)
        for item in re.split(r",(?![^{]*\})", g.group(3)):
            item = item.strip().split(" as ")[0].strip()
            head = re.match(r"[a-z_][a-z0-9_]*(?:::[a-z_][a-z0-9_]*)*", item)
            if head and head.group(0) != "self":
                r = resolve(None, g.group(1), prefix + "::" + head.group(0), mod)
                if r:
                    refs.add(r)
    for r in refs:
        if r == mod or r[: len(mod)] == mod or mod[: len(r)] == r:
            continue  # itself, a child, or a parent (re-exports)
        edges.setdefault(mod, set()).add(r)
        src_top, dst_top = mod[0], r[0]
        if src_top == "cli":
            findings.append(f"cli imports the crate: {rel} -> {'::'.join(r)}")
        if dst_top in ("cli", "config") and src_top not in EDGE:
            findings.append(f"core imports the edge: {rel} -> {'::'.join(r)}")
        if src_top in LAYERS and dst_top in LAYERS and LAYERS.index(dst_top) > LAYERS.index(src_top):
            findings.append(f"import against the layers: {rel} ({src_top}) -> {'::'.join(r)} ({dst_top})")

# Cycles (Tarjan's strongly connected components).
sys.setrecursionlimit(10000)
index, low, stack, on, comps, counter = {}, {}, [], set(), [], [0]


def strong(v):
    index[v] = low[v] = counter[0]
    counter[0] += 1
    stack.append(v)
    on.add(v)
    for w in sorted(edges.get(v, ())):
        if w not in index:
            strong(w)
            low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop()
            on.discard(w)
            comp.append(w)
            if w == v:
                break
        comps.append(comp)


for v in sorted(modules):
    if v not in index:
        strong(v)
found = set()
for comp in comps:
    if len(comp) > 1:
        found.add(" <-> ".join(sorted("::".join(c) for c in comp)))

# The same with every module folded into its group (its first two path segments), so that a
# submodule of one folder using a sibling folder that uses it back is a cycle too.
fold = lambda m: m[:2]
folded = {}
for v, ws in edges.items():
    for w in ws:
        a, b = fold(v), fold(w)
        if a != b and a[: len(b)] != b and b[: len(a)] != a:
            folded.setdefault(a, set()).add(b)
edges_all, edges = edges, folded
index, low, stack, on, comps, counter = {}, {}, [], set(), [], [0]
for v in sorted({fold(m) for m in modules}):
    if v not in index:
        strong(v)
for comp in comps:
    if len(comp) > 1:
        found.add(" <-> ".join(sorted("::".join(c) for c in comp)))
edges = edges_all
for cycle in sorted(found):
    findings.append("cycle: " + cycle)

# Sizes.
fn_re = re.compile(r"^\s*(pub(\([^)]*\))?\s+)?(const\s+)?(async\s+)?(unsafe\s+)?fn\s+(\w+)")
for rel, text in sorted(files.items()):
    lines = text.count("\n") + 1
    if lines > args.max_file and (rel, None) not in ALLOWED_LONG:
        findings.append(f"long file: {rel} {lines} lines")
    rows = text.split("\n")
    i = 0
    while i < len(rows):
        m = fn_re.match(rows[i])
        if not m:
            i += 1
            continue
        depth, started, j = 0, False, i
        while j < len(rows):
            s = re.sub(r'"(\\.|[^"\\])*"', '""', rows[j])
            s = re.sub(r"'(\\.|[^'\\])'", "''", s).split("//")[0]
            depth += s.count("{") - s.count("}")
            started = started or "{" in s
            if (started and depth <= 0) or (not started and s.rstrip().endswith(";")):
                break
            j += 1
        size = j - i + 1
        if started and size > args.max_fn and (rel, m.group(6)) not in ALLOWED_LONG:
            findings.append(f"long fn: {rel}:{i + 1} {m.group(6)} {size} lines")
        i = j + 1 if started else i + 1

for f in findings:
    print(f)
print(
    f"{len(modules)} modules, {sum(len(v) for v in edges.values())} imports between them, "
    f"{len(findings)} findings"
)
sys.exit(1 if findings else 0)
