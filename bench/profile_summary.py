#!/usr/bin/env python3
"""Ranks the GPU kernels of a Kineto trace (`eiview-bench infer|train --profile TRACE`).

    bench/profile_summary.py TRACE [--top N] [--json OUT]

Prints the kernels' total time, their count, the span from the first kernel's start to
the last one's end and the share of it the GPU was busy, the time per kind of kernel
(matrix products, attention, normalisation, element-wise, copies...), and the top N
kernels by total time. Without kernels (a CPU trace) it ranks the CPU operators by
their inclusive time instead.
"""
import argparse
import json
import re
import sys
from collections import defaultdict

KINDS = [
    ("attention", re.compile(r"flash|fmha|attention|sdpa|efficient_attention", re.I)),
    ("matrix product", re.compile(r"gemm|xmma|cutlass|cublas|sm\d+_.*(?:tensorop|mma)|ampere_|hopper_|wgmma|nvjet", re.I)),
    ("softmax", re.compile(r"softmax", re.I)),
    ("layer norm", re.compile(r"layer_?norm|LayerNorm", re.I)),
    ("reduction", re.compile(r"reduce", re.I)),
    ("copy / cat / cast", re.compile(r"copy|cat|CatArray|memcpy|memset|Memcpy|Memset|to_copy|direct_copy", re.I)),
    ("element-wise", re.compile(r"elementwise|vectorized|unrolled|gelu|Gelu|mul|add|sigmoid", re.I)),
]


def kind_of(name):
    for kind, pattern in KINDS:
        if pattern.search(name):
            return kind
    return "other"


def summarise(trace, top):
    events = [e for e in trace.get("traceEvents", []) if e.get("ph") == "X" and "dur" in e]
    gpu = [e for e in events if e.get("cat") in ("kernel", "gpu_memcpy", "gpu_memset")]
    rows = gpu if gpu else [e for e in events if e.get("cat") == "cpu_op"]
    by_name = defaultdict(lambda: [0.0, 0])
    by_kind = defaultdict(lambda: [0.0, 0])
    for e in rows:
        by_name[e["name"]][0] += e["dur"]
        by_name[e["name"]][1] += 1
        k = kind_of(e["name"]) if gpu else "cpu operator"
        by_kind[k][0] += e["dur"]
        by_kind[k][1] += 1
    total = sum(e["dur"] for e in rows)
    span = (max(e["ts"] + e["dur"] for e in rows) - min(e["ts"] for e in rows)) if rows else 0.0
    return {
        "what": "gpu kernels" if gpu else "cpu operators (inclusive time)",
        "count": len(rows),
        "total_us": total,
        "span_us": span,
        "busy_share": total / span if span and gpu else None,
        "kinds": sorted(({"kind": k, "us": v[0], "count": v[1]} for k, v in by_kind.items()), key=lambda r: -r["us"]),
        "top": sorted(({"name": n, "us": v[0], "count": v[1]} for n, v in by_name.items()), key=lambda r: -r["us"])[:top],
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("trace")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--json")
    a = ap.parse_args()
    try:
        with open(a.trace) as f:
            trace = json.load(f)
    except (OSError, ValueError) as e:
        sys.exit(f"profile_summary: {a.trace}: cannot read the trace: {e}")
    s = summarise(trace, a.top)
    print(f"{a.trace}: {s['count']} {s['what']}, {s['total_us'] / 1000:.3f} ms in all, "
          f"span {s['span_us'] / 1000:.3f} ms" + (f", busy {s['busy_share']:.2f}" if s["busy_share"] else ""))
    for r in s["kinds"]:
        print(f"  {r['kind']:<18} {r['us'] / 1000:9.3f} ms  {r['count']:6d} calls  {r['us'] / max(s['total_us'], 1e-9):6.1%}")
    print("  top:")
    for r in s["top"]:
        print(f"  {r['us'] / 1000:9.3f} ms {r['count']:6d}x  {r['name'][:110]}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(s, f, indent=1)


if __name__ == "__main__":
    main()
