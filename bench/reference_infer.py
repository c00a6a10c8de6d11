#!/usr/bin/python3
# The PyTorch side of `eiview-bench infer`: the same .eimodel and input tensors through the
# reference model of tests/models/reference (float32, plain PyTorch ops, maps included;
# --bf16: under torch.autocast("cpu", bfloat16), as a PyTorch user runs bf16), timed per
# study. Prints JSON {"seconds": [...], "fused": [...], "threads": n}.
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "models"))
from reference.ei_model import EiModel  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--input", action="append", default=[], help="NAME=X.npy")
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--bf16", action="store_true")
    args = ap.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    model = EiModel(args.model, dtype=torch.float32)
    inputs = {}
    for item in args.input:
        name, path = item.split("=", 1)
        inputs[name] = torch.from_numpy(np.load(path).astype(np.float32))
    times, out = [], None
    for r in range(args.warmup + args.reps):
        t0 = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            out = model.forward(inputs)
        dt = time.perf_counter() - t0
        if r >= args.warmup:
            times.append(dt)
    print(json.dumps({"seconds": times, "fused": out["fused"]["logits"].tolist(),
                      "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
