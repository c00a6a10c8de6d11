# Writes .eimodel files (MODEL.md section 7) from Python: random weights with every term
# live, for the reference's self-checks and the benchmark's PyTorch side.
import json
import math

import torch

from .backbone import random_backbone_weights
from .config import fill_model
from .safetensors_io import write_safetensors


def random_eimodel_weights(cfg, seed, live=True):
    """All non-backbone tensors of a filled config. live=False: MoR as at init (B = 0)."""
    g = torch.Generator().manual_seed(seed)

    def n(*shape, std=1.0):
        return torch.randn(*shape, generator=g) * std

    bb, mor = cfg["backbone"], cfg["mor"]
    d, depth = bb["embed_dim"], bb["depth"]
    hidden = int(round(d * bb["mlp_ratio"]))
    dims = {"q": (d, d), "k": (d, d), "v": (d, d), "proj": (d, d), "fc1": (d, hidden), "fc2": (hidden, d)}
    K = len(mor["ranks"])
    M, C = len(cfg["modalities"]), len(cfg["classes"])
    roles = {"ei": ("aux", "primary"), "late": ("primary",), "unimodal": ("uni",)}[cfg["fusion"]]
    w = {}
    for role in roles:
        for m in range(M):
            for i in range(depth):
                for t in mor["targets"]:
                    din, dout = dims[t]
                    p = f"mor.{role}.{m}.blocks.{i}.{t}."
                    w[p + "router.weight"] = n(K + int(mor["bypass"]), din, std=din ** -0.5)
                    w[p + "router.bias"] = n(K + int(mor["bypass"]), std=0.5)
                    for k, r in enumerate(mor["ranks"]):
                        w[p + f"A{k}"] = n(r, din, std=din ** -0.5)
                        w[p + f"B{k}"] = n(dout, r, std=0.1 / math.sqrt(r)) if live else torch.zeros(dout, r)
            w[f"head.{role}.{m}.weight"] = n(C, d, std=d ** -0.5)
            w[f"head.{role}.{m}.bias"] = n(C, std=0.1)
    if cfg["fusion"] != "unimodal":
        w["gate.weight"], w["gate.bias"] = n(M, M * d, std=(M * d) ** -0.5), n(M, std=0.1)
    if cfg["fusion"] == "ei":
        a = cfg["adapter"]
        pairs = [f"{t}.{r}." for t in range(M) for r in range(M) if r != t] if a["per_pair"] else [""]
        for pair in pairs:
            p = "adapter." + pair
            if a["norm"]:
                w[p + "norm.weight"], w[p + "norm.bias"] = 1 + n(d, std=0.1), n(d, std=0.1)
            w[p + "fc1.weight"], w[p + "fc1.bias"] = n(a["hidden"], d, std=d ** -0.5), n(a["hidden"], std=0.1)
            w[p + "fc2.weight"], w[p + "fc2.bias"] = n(d, a["hidden"], std=a["hidden"] ** -0.5), n(d, std=0.1)
    return w


def write_eimodel(path, cfg, seed, live=True):
    """A self-contained .eimodel (backbone embedded) from a config; returns the filled config."""
    full = fill_model(cfg)
    w = random_eimodel_weights(full, seed, live)
    for k, v in random_backbone_weights(full["backbone"], seed + 1).items():
        w["backbone." + k] = v
    write_safetensors(path, w, {"format": "eiview-model", "format_version": "1", "config": json.dumps(cfg),
                                "intended_use": "parity test"})
    return full
