#!/usr/bin/env python3
# Plain PyTorch on a GPU, for `eiview-bench infer --device cuda`: the backbone work of one
# EI study (M = 2: two auxiliary, two primary and two comparison passes of a DINOv2
# ViT-B/14 with 4 registers at SIZE x SIZE, random weights) written the way a PyTorch user
# would, timed as (a) six passes one by one in fp32, (b) the same with TF32 matmuls, (c)
# the six as one batch under bf16 autocast; and timm's vit_base_patch14_reg4_dinov2 the
# same way where timm is installed. Prints JSON {name: milliseconds per study}.
import argparse
import json
import math
import time

import torch
import torch.nn.functional as F


class PlainViT(torch.nn.Module):
    def __init__(self, size, d=768, depth=12, heads=12, patch=14, registers=4):
        super().__init__()
        self.patch, self.heads = patch, heads
        n = (size // patch) ** 2
        self.embed = torch.nn.Conv2d(3, d, patch, patch)
        self.cls = torch.nn.Parameter(torch.randn(1, 1, d) * 0.02)
        self.reg = torch.nn.Parameter(torch.randn(1, registers, d) * 0.02)
        self.pos = torch.nn.Parameter(torch.randn(1, 1 + n, d) * 0.02)
        self.blocks = torch.nn.ModuleList()
        for _ in range(depth):
            self.blocks.append(torch.nn.ModuleDict({
                "n1": torch.nn.LayerNorm(d, eps=1e-6), "qkv": torch.nn.Linear(d, 3 * d), "proj": torch.nn.Linear(d, d),
                "n2": torch.nn.LayerNorm(d, eps=1e-6), "fc1": torch.nn.Linear(d, 4 * d), "fc2": torch.nn.Linear(4 * d, d)}))
        self.norm = torch.nn.LayerNorm(d, eps=1e-6)
        for p in self.parameters():
            p.requires_grad_(False)

    def forward(self, x):
        x = self.embed(x).flatten(2).transpose(1, 2)
        b = x.shape[0]
        x = torch.cat([self.cls.expand(b, -1, -1), x], 1) + self.pos
        x = torch.cat([x[:, :1], self.reg.expand(b, -1, -1), x[:, 1:]], 1)
        for blk in self.blocks:
            h = blk["n1"](x)
            B, T, D = h.shape
            q, k, v = blk["qkv"](h).view(B, T, 3, self.heads, D // self.heads).permute(2, 0, 3, 1, 4)
            a = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(B, T, D)
            x = x + blk["proj"](a)
            x = x + blk["fc2"](F.gelu(blk["fc1"](blk["n2"](x))))
        return self.norm(x)


def timed(fn, device, warmup, reps):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize(device)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize(device)
        times.append(time.perf_counter() - t0)
    times.sort()
    return 1000.0 * times[len(times) // 2]


def measure(model, size, device, warmup, reps, prefix, out):
    xs = torch.randn(6, 3, size, size, device=device)

    def one_by_one():
        with torch.inference_mode():
            for i in range(6):
                model(xs[i:i + 1])

    def batched_bf16():
        with torch.inference_mode(), torch.autocast("cuda", dtype=torch.bfloat16):
            model(xs)

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    out[prefix + "one_by_one_fp32"] = timed(one_by_one, device, warmup, reps)
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    out[prefix + "one_by_one_tf32"] = timed(one_by_one, device, warmup, reps)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    out[prefix + "batched_bf16"] = timed(batched_bf16, device, warmup, reps)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=448)
    ap.add_argument("--device", default="cuda:0")
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    args = ap.parse_args()
    device = torch.device(args.device)
    size = math.ceil(args.size / 14) * 14
    out = {}
    torch.manual_seed(0)
    measure(PlainViT(size).to(device).eval(), size, device, args.warmup, args.reps, "", out)
    try:
        import timm  # noqa: F401
        model = timm.create_model("vit_base_patch14_reg4_dinov2", pretrained=False, img_size=size).to(device).eval()
        measure(model.forward_features, size, device, args.warmup, args.reps, "timm_", out)
    except Exception as e:  # not installed, or a timm without this model
        out["timm"] = ("unavailable: " + str(e))[:200]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
