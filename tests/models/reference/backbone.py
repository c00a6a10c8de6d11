# The frozen ViT backbone (DINOv2 / CLIP families) with MoR-adapted linear layers and extra
# (INT) tokens, written from MODEL.md sections 1-2 and VFM_WEIGHTS.md sections 1-4.
import math

import torch
import torch.nn.functional as F


def quick_gelu(x):
    return x * torch.sigmoid(1.702 * x)


def resolve_pos_interp(bb):
    mode = bb["pos_interp"]
    if mode != "auto":
        return mode
    if bb["family"] == "clip":
        return "size"  # Hugging Face interpolate_pos_encoding
    return "size_antialias" if bb["num_register_tokens"] > 0 else "offset"


def interpolate_pos_embed(pos_embed, grid, target, mode):
    """pos_embed [1, 1 + Gh*Gw, d] -> [1, 1 + gh*gw, d]; class entry untouched; fp32 work."""
    gh0, gw0 = grid
    gh, gw = target
    if (gh, gw) == (gh0, gw0):
        return pos_embed
    dtype = pos_embed.dtype
    cls = pos_embed[:, :1]
    d = pos_embed.shape[-1]
    patch = pos_embed[:, 1:].float().reshape(1, gh0, gw0, d).permute(0, 3, 1, 2)
    if mode == "offset":
        out = F.interpolate(patch, scale_factor=((gh + 0.1) / gh0, (gw + 0.1) / gw0),
                            mode="bicubic", align_corners=False, antialias=False,
                            recompute_scale_factor=False)
    elif mode == "size":
        out = F.interpolate(patch, size=(gh, gw), mode="bicubic", align_corners=False,
                            antialias=False)
    elif mode == "size_antialias":
        out = F.interpolate(patch, size=(gh, gw), mode="bicubic", align_corners=False,
                            antialias=True)
    else:
        raise ValueError(f"unknown pos_interp {mode}")
    if tuple(out.shape[-2:]) != (gh, gw):
        raise ValueError(f"position interpolation gave {tuple(out.shape[-2:])}, wanted {(gh, gw)}")
    out = out.permute(0, 2, 3, 1).reshape(1, gh * gw, d).to(dtype)
    return torch.cat([cls, out], dim=1)


class MorSet:
    """One MoR set: per (block, target) router + LoRA pairs (MODEL.md section 2)."""

    def __init__(self, weights, prefix, depth, targets, ranks, alphas, bypass):
        self.ranks, self.alphas, self.bypass = list(ranks), list(alphas), bypass
        self.layers = {}
        for i in range(depth):
            for t in targets:
                p = f"{prefix}.blocks.{i}.{t}."
                self.layers[(i, t)] = (
                    weights[p + "router.weight"], weights[p + "router.bias"],
                    [weights[p + f"A{k}"] for k in range(len(ranks))],
                    [weights[p + f"B{k}"] for k in range(len(ranks))])

    def delta(self, i, target, h):
        """The MoR addition to the frozen layer's output for input h [..., d_in], or None."""
        layer = self.layers.get((i, target))
        if layer is None:
            return None
        rw, rb, As, Bs = layer
        w = torch.softmax(h @ rw.t() + rb, dim=-1)
        if self.bypass:
            w = w[..., 1:]
        out = 0
        for k, (A, B) in enumerate(zip(As, Bs)):
            out = out + w[..., k:k + 1] * (self.alphas[k] / self.ranks[k]) * ((h @ A.t()) @ B.t())
        return out


class Backbone:
    def __init__(self, bb_cfg, weights, prefix="", dtype=torch.float64):
        self.cfg = bb_cfg
        self.w = {k[len(prefix):]: v.to(dtype) for k, v in weights.items() if k.startswith(prefix)}
        self.dtype = dtype
        self.p = bb_cfg["patch_size"]
        self.d = bb_cfg["embed_dim"]
        self.depth = bb_cfg["depth"]
        self.heads = bb_cfg["num_heads"]
        self.R = bb_cfg["num_register_tokens"]
        self.eps = bb_cfg["norm_eps"]
        self.act = quick_gelu if bb_cfg["act"] == "quick_gelu" else (lambda x: F.gelu(x))
        self.mode = resolve_pos_interp(bb_cfg)

    def _ln(self, x, name):
        return F.layer_norm(x, (self.d,), self.w[name + ".weight"], self.w[name + ".bias"], self.eps)

    def _linear(self, x, name, mor, i, target):
        y = x @ self.w[name + ".weight"].t() + self.w[name + ".bias"]
        if mor is not None:
            dl = mor.delta(i, target, x)
            if dl is not None:
                y = y + dl
        return y

    def grid_of(self, H, W):
        p = self.p
        if self.cfg["pad_to_patch"]:
            H, W = -(-H // p) * p, -(-W // p) * p
        elif H % p or W % p:
            raise ValueError(f"input {H}x{W} is not a multiple of the patch size {p}")
        return H // p, W // p

    def embed(self, x):
        """[B,3,H,W] -> token sequence [B, 1 + R + N, d] before the first block, and (gh, gw)."""
        x = x.to(self.dtype)
        B, _, H, W = x.shape
        gh, gw = self.grid_of(H, W)
        x = F.pad(x, (0, gw * self.p - W, 0, gh * self.p - H))
        bias = self.w.get("patch_embed.bias") if self.cfg["patch_bias"] else None
        t = F.conv2d(x, self.w["patch_embed.weight"], bias, stride=self.p)
        t = t.flatten(2).transpose(1, 2)
        cls = self.w["cls_token"].expand(B, -1, -1)
        t = torch.cat([cls, t], dim=1)
        pos = interpolate_pos_embed(self.w["pos_embed"], tuple(self.cfg["pos_grid"]), (gh, gw), self.mode)
        t = t + pos
        if self.R > 0:
            t = torch.cat([t[:, :1], self.w["reg_tokens"].expand(B, -1, -1), t[:, 1:]], dim=1)
        if self.cfg["pre_norm"]:
            t = self._ln(t, "norm_pre")
        return t, (gh, gw)

    def block(self, x, i, mor):
        b = f"blocks.{i}."
        B, T, d = x.shape
        h = self._ln(x, b + "norm1")
        qkv = h @ self.w[b + "attn.qkv.weight"].t() + self.w[b + "attn.qkv.bias"]
        if mor is not None:
            parts = list(qkv.split(d, dim=-1))
            for j, t in enumerate(("q", "k", "v")):
                dl = mor.delta(i, t, h)
                if dl is not None:
                    parts[j] = parts[j] + dl
            qkv = torch.cat(parts, dim=-1)
        hd = d // self.heads
        q, k, v = qkv.reshape(B, T, 3, self.heads, hd).permute(2, 0, 3, 1, 4)
        a = torch.softmax((q @ k.transpose(-2, -1)) * hd ** -0.5, dim=-1)
        o = (a @ v).transpose(1, 2).reshape(B, T, d)
        o = self._linear(o, b + "attn.proj", mor, i, "proj")
        if self.cfg["layer_scale"]:
            o = o * self.w[b + "ls1"]
        x = x + o
        h = self._ln(x, b + "norm2")
        h = self.act(self._linear(h, b + "mlp.fc1", mor, i, "fc1"))
        h = self._linear(h, b + "mlp.fc2", mor, i, "fc2")
        if self.cfg["layer_scale"]:
            h = h * self.w[b + "ls2"]
        return x + h

    def forward(self, x, mor=None, extra=None, insert_layer=0, acquire_layer=None):
        """Returns (final normed tokens [B, T, d], acquired CLS [B, d], (gh, gw)).
        extra: INT tokens [B, n, d] appended before block insert_layer + 1."""
        t, grid = self.embed(x)
        acquire_layer = self.depth if acquire_layer is None else acquire_layer
        acquired = t[:, 0] if acquire_layer == 0 else None
        for i in range(self.depth):
            if extra is not None and i == insert_layer:
                t = torch.cat([t, extra.to(self.dtype)], dim=1)
            t = self.block(t, i, mor)
            if i + 1 == acquire_layer and acquire_layer < self.depth:
                acquired = t[:, 0]
        if extra is not None and insert_layer >= self.depth:
            t = torch.cat([t, extra.to(self.dtype)], dim=1)
        t = self._ln(t, "norm")
        if acquired is None:
            acquired = t[:, 0]
        return t, acquired, grid


def random_backbone_weights(bb, seed):
    """Random weights of meaningful scale (every term visible in the outputs), canonical names."""
    g = torch.Generator().manual_seed(seed)

    def n(*shape, std=1.0, mean=0.0):
        return torch.randn(*shape, generator=g) * std + mean

    d, p = bb["embed_dim"], bb["patch_size"]
    hidden = int(round(d * bb["mlp_ratio"]))
    gh, gw = bb["pos_grid"]
    w = {"cls_token": n(1, 1, d), "pos_embed": n(1, 1 + gh * gw, d),
         "patch_embed.weight": n(d, 3, p, p, std=1.0 / math.sqrt(3 * p * p))}
    if bb["patch_bias"]:
        w["patch_embed.bias"] = n(d, std=0.2)
    if bb["num_register_tokens"]:
        w["reg_tokens"] = n(1, bb["num_register_tokens"], d)
    if bb["pre_norm"]:
        w["norm_pre.weight"], w["norm_pre.bias"] = n(d, std=0.1, mean=1.0), n(d, std=0.1)
    for i in range(bb["depth"]):
        b = f"blocks.{i}."
        for ln in ("norm1", "norm2"):
            w[b + ln + ".weight"], w[b + ln + ".bias"] = n(d, std=0.1, mean=1.0), n(d, std=0.1)
        w[b + "attn.qkv.weight"], w[b + "attn.qkv.bias"] = n(3 * d, d, std=d ** -0.5), n(3 * d, std=0.1)
        w[b + "attn.proj.weight"], w[b + "attn.proj.bias"] = n(d, d, std=d ** -0.5), n(d, std=0.1)
        w[b + "mlp.fc1.weight"], w[b + "mlp.fc1.bias"] = n(hidden, d, std=d ** -0.5), n(hidden, std=0.1)
        w[b + "mlp.fc2.weight"], w[b + "mlp.fc2.bias"] = n(d, hidden, std=hidden ** -0.5), n(d, std=0.1)
        if bb["layer_scale"]:
            w[b + "ls1"], w[b + "ls2"] = n(d, std=0.1, mean=0.5), n(d, std=0.1, mean=0.5)
    w["norm.weight"], w["norm.bias"] = n(d, std=0.1, mean=1.0), n(d, std=0.1)
    return w
