#!/usr/bin/python3
# Integrated Gradients computed independently of the C++ engine (issue 16): the float64
# PyTorch reference model of reference/ with autograd, the same path rule as
# models/ei/Attribution.h (midpoint Riemann sum over a_k = (k + 1/2) / N from the black
# baseline, all modalities together) and the fused probability of one class as the score.
# Usage: ig_reference.py MODEL OUT_DIR --target K --steps N NAME=X.npy ...
# Writes OUT_DIR/NAME_ig.npy ([H, W] or [S, H, W]) and prints {"score_input",
# "score_baseline", "attribution_sum"} as JSON.
import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference.ei_model import EiModel  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("out")
    ap.add_argument("--target", type=int, required=True)
    ap.add_argument("--steps", type=int, required=True)
    ap.add_argument("inputs", nargs="+")
    a = ap.parse_args()
    model = EiModel(a.model)
    cfg = model.cfg
    mean = torch.tensor(cfg["mean"], dtype=torch.float64).view(3, 1, 1)
    std = torch.tensor(cfg["std"], dtype=torch.float64).view(3, 1, 1)
    x = {}
    for item in a.inputs:
        name, path = item.split("=", 1)
        x[name] = torch.from_numpy(np.load(path).astype(np.float64))  # [S, 3, H, W]
    b = {n: ((0.0 - mean) / std).expand_as(v).clone() for n, v in x.items()}
    forward = getattr(model, "_" + cfg["fusion"])

    def score(study):
        return forward(study)["fused"]["probs"][a.target]

    with torch.no_grad():
        f_x, f_b = float(score(x)), float(score(b))
    grads = {n: torch.zeros_like(v) for n, v in x.items()}
    for k in range(a.steps):
        alpha = (k + 0.5) / a.steps
        point = {n: (b[n] + alpha * (x[n] - b[n])).requires_grad_(True) for n in x}
        f = score(point)
        g = torch.autograd.grad(f, [point[n] for n in x])
        for n, gn in zip(x, g):
            grads[n] += gn
    total = 0.0
    os.makedirs(a.out, exist_ok=True)
    for m in cfg["modalities"]:
        n = m["name"]
        attr = ((x[n] - b[n]) * grads[n] / a.steps).sum(dim=1)  # [S, H, W]
        if m["kind"] != "volume":
            attr = attr[0]
        total += float(attr.sum())
        np.save(os.path.join(a.out, n + "_ig.npy"), attr.numpy())
    print(json.dumps({"score_input": f_x, "score_baseline": f_b, "attribution_sum": total}))


if __name__ == "__main__":
    main()
