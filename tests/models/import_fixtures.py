#!/usr/bin/python3
"""Fixtures for the weight-import tests, built with Debian's PyTorch (/usr/bin/python3).

  import_fixtures.py backbone OUTDIR   a tiny random ViT (d=32, depth 2, heads 2, patch 4,
                                       4x4 grid) saved in every naming scheme of
                                       VFM_WEIGHTS.md section 4, plus the canonical tensors
                                       each file must import to (ref_*.safetensors)
  import_fixtures.py ei OUTDIR         tiny checkpoints of the official EI code (OFFICIAL_EI.md
                                       sections 3 and 8) with their official configs, plus the
                                       canonical .eimodel tensors each must import to
                                       (<name>.expected.safetensors, <name>.expected.json)

The expected canonical names are written here from the design documents, independently of
the C++ mapping under test. safetensors is written by hand (Debian has no python3-safetensors).
"""
import collections
import json
import math
import os
import struct
import sys

import torch

D, DEPTH, P, G, HID, R = 32, 2, 4, 4, 128, 4
P_ = P


def write_safetensors(path, tensors, metadata=None):
    names = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.int64: "I64"}
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        raw = t.view(torch.int16).numpy().tobytes() if t.dtype == torch.bfloat16 else t.numpy().tobytes()
        header[name] = {"dtype": names[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def write_with_location(obj, path, location):
    """torch.save(obj), with every storage's location (the pickle's 'cpu') set to `location`."""
    import io
    import pickletools  # noqa: F401  (documents the opcodes patched below)
    import zipfile
    buf = io.BytesIO()
    torch.save(obj, buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename.endswith("data.pkl"):
                # BINUNICODE 'X' + 4-byte length, or SHORT_BINUNICODE 0x8c + 1-byte length
                new = location.encode()
                data = data.replace(b"X\x03\x00\x00\x00cpu", b"X" + len(new).to_bytes(4, "little") + new)
                data = data.replace(b"\x8c\x03cpu", b"\x8c" + bytes([len(new)]) + new)
                assert location.encode() in data, "no storage location found to rewrite"
            dst.writestr(info, data)


def state_dict_like(items):
    """An OrderedDict carrying `_metadata`, exactly what nn.Module.state_dict() returns."""
    sd = collections.OrderedDict(items)
    sd._metadata = collections.OrderedDict([("", {"version": 1}), ("blocks", {"version": 1})])
    return sd


def random_canonical(family, regs, gen):
    """Canonical backbone tensors (MODEL.md section 7 names, no `backbone.` prefix)."""
    def r(*shape):
        return torch.randn(*shape, generator=gen) * 0.2
    t = {"cls_token": r(1, 1, D), "pos_embed": r(1, 1 + G * G, D), "patch_embed.weight": r(D, 3, P, P)}
    if family == "dinov2":
        t["patch_embed.bias"] = r(D)
    else:
        t["norm_pre.weight"] = 1 + r(D)
        t["norm_pre.bias"] = r(D)
    if regs:
        t["reg_tokens"] = r(1, regs, D)
    for i in range(DEPTH):
        b = "blocks.%d." % i
        for n in ("norm1", "norm2"):
            t[b + n + ".weight"] = 1 + r(D)
            t[b + n + ".bias"] = r(D)
        t[b + "attn.qkv.weight"] = r(3 * D, D)
        t[b + "attn.qkv.bias"] = r(3 * D)
        t[b + "attn.proj.weight"] = r(D, D)
        t[b + "attn.proj.bias"] = r(D)
        if family == "dinov2":
            t[b + "ls1"] = 1 + r(D)
            t[b + "ls2"] = 1 + r(D)
        t[b + "mlp.fc1.weight"] = r(HID, D)
        t[b + "mlp.fc1.bias"] = r(HID)
        t[b + "mlp.fc2.weight"] = r(D, HID)
        t[b + "mlp.fc2.bias"] = r(D)
    t["norm.weight"] = 1 + r(D)
    t["norm.bias"] = r(D)
    return t


def official_dinov2(c, gen):
    out = collections.OrderedDict()
    for k, v in c.items():
        if k == "patch_embed.weight" or k == "patch_embed.bias":
            k = k.replace("patch_embed.", "patch_embed.proj.")
        elif k == "reg_tokens":
            k = "register_tokens"
        elif k.endswith(".ls1") or k.endswith(".ls2"):
            k = k + ".gamma"
        out[k] = v.clone()
    out["mask_token"] = torch.randn(1, D, generator=gen)
    return out


def hf_dinov2(c, gen):
    out = {}
    for k, v in c.items():
        parts = k.split(".")
        if k == "cls_token":
            out["embeddings.cls_token"] = v
        elif k == "pos_embed":
            out["embeddings.position_embeddings"] = v
        elif k == "reg_tokens":
            out["embeddings.register_tokens"] = v
        elif k.startswith("patch_embed."):
            out["embeddings.patch_embeddings.projection." + parts[-1]] = v
        elif k.startswith("norm."):
            out["layernorm." + parts[-1]] = v
        else:
            i, rest = parts[1], ".".join(parts[2:])
            L = "encoder.layer.%s." % i
            if rest.startswith("attn.qkv."):
                for name, chunk in zip(("query", "key", "value"), v.chunk(3, 0)):
                    out[L + "attention.attention.%s.%s" % (name, parts[-1])] = chunk.clone()
            elif rest.startswith("attn.proj."):
                out[L + "attention.output.dense." + parts[-1]] = v
            elif rest in ("ls1", "ls2"):
                out[L + "layer_scale%s.lambda1" % rest[-1]] = v
            else:
                out[L + rest] = v
    out["embeddings.mask_token"] = torch.randn(1, D, generator=gen)
    return out


def timm_dinov2(c):
    out = {}
    for k, v in c.items():
        if k.startswith("patch_embed."):
            out[k.replace("patch_embed.", "patch_embed.proj.")] = v
        elif k.endswith(".ls1") or k.endswith(".ls2"):
            out[k + ".gamma"] = v
        elif k == "reg_tokens":
            out["reg_token"] = v
        else:
            out[k] = v
    if "reg_tokens" in c:  # timm's _convert_dinov2: pos[0] folded into cls_token, class entry dropped
        out["cls_token"] = c["cls_token"] + c["pos_embed"][:, :1]
        out["pos_embed"] = c["pos_embed"][:, 1:].clone()
    return out


def openai_clip(c, gen):
    out = collections.OrderedDict()
    for k, v in c.items():
        parts = k.split(".")
        if k == "cls_token":
            out["visual.class_embedding"] = v.reshape(D)
        elif k == "pos_embed":
            out["visual.positional_embedding"] = v[0].clone()
        elif k == "patch_embed.weight":
            out["visual.conv1.weight"] = v
        elif k.startswith("norm_pre."):
            out["visual.ln_pre." + parts[-1]] = v
        elif k.startswith("norm."):
            out["visual.ln_post." + parts[-1]] = v
        else:
            B = "visual.transformer.resblocks.%s." % parts[1]
            rest = ".".join(parts[2:])
            ren = {"norm1": "ln_1", "norm2": "ln_2", "attn.proj": "attn.out_proj", "mlp.fc1": "mlp.c_fc",
                   "mlp.fc2": "mlp.c_proj"}
            if rest.startswith("attn.qkv."):
                out[B + "attn.in_proj_" + parts[-1]] = v
            else:
                base = rest.rsplit(".", 1)[0]
                out[B + ren[base] + "." + parts[-1]] = v
    out["visual.proj"] = torch.randn(D, 16, generator=gen)
    # text tower and friends, which the importer must ignore
    out["positional_embedding"] = torch.randn(7, D, generator=gen)
    out["token_embedding.weight"] = torch.randn(11, D, generator=gen)
    out["transformer.resblocks.0.ln_1.weight"] = torch.randn(D, generator=gen)
    out["text_projection"] = torch.randn(D, 16, generator=gen)
    out["logit_scale"] = torch.tensor(4.6)
    return out


def hf_clip(c, gen):
    out = {}
    for k, v in c.items():
        parts = k.split(".")
        if k == "cls_token":
            out["vision_model.embeddings.class_embedding"] = v.reshape(D)
        elif k == "pos_embed":
            out["vision_model.embeddings.position_embedding.weight"] = v[0].clone()
        elif k == "patch_embed.weight":
            out["vision_model.embeddings.patch_embedding.weight"] = v
        elif k.startswith("norm_pre."):
            out["vision_model.pre_layrnorm." + parts[-1]] = v
        elif k.startswith("norm."):
            out["vision_model.post_layernorm." + parts[-1]] = v
        else:
            L = "vision_model.encoder.layers.%s." % parts[1]
            rest = ".".join(parts[2:])
            if rest.startswith("attn.qkv."):
                for name, chunk in zip(("q_proj", "k_proj", "v_proj"), v.chunk(3, 0)):
                    out[L + "self_attn.%s.%s" % (name, parts[-1])] = chunk.clone()
            elif rest.startswith("attn.proj."):
                out[L + "self_attn.out_proj." + parts[-1]] = v
            elif rest.startswith("norm1."):
                out[L + "layer_norm1." + parts[-1]] = v
            elif rest.startswith("norm2."):
                out[L + "layer_norm2." + parts[-1]] = v
            else:
                out[L + rest] = v
    out["vision_model.embeddings.position_ids"] = torch.arange(1 + G * G).reshape(1, -1)
    out["visual_projection.weight"] = torch.randn(16, D, generator=gen)
    out["text_model.embeddings.token_embedding.weight"] = torch.randn(11, D, generator=gen)
    out["text_projection.weight"] = torch.randn(16, D, generator=gen)
    out["logit_scale"] = torch.tensor(4.6)
    return out


def timm_clip(c, gen):
    out = {}
    for k, v in c.items():
        out[k.replace("patch_embed.", "patch_embed.proj.") if k.startswith("patch_embed.") else k] = v
    out["head.weight"] = torch.randn(16, D, generator=gen)
    out["head.bias"] = torch.zeros(16)
    return out


def make_backbones(outdir):
    gen = torch.Generator().manual_seed(1234)
    dino = random_canonical("dinov2", 0, gen)
    dino_reg = random_canonical("dinov2", R, gen)
    clip = random_canonical("clip", 0, gen)
    write_safetensors(os.path.join(outdir, "ref_dinov2.safetensors"), dino)
    write_safetensors(os.path.join(outdir, "ref_dinov2_reg.safetensors"), dino_reg)
    write_safetensors(os.path.join(outdir, "ref_clip.safetensors"), clip)

    off = official_dinov2(dino, gen)
    torch.save(state_dict_like(off.items()), os.path.join(outdir, "official_dinov2.pth"))
    torch.save(dict(off), os.path.join(outdir, "official_dinov2_plain.pth"))
    torch.save({"model": state_dict_like(off.items())}, os.path.join(outdir, "official_dinov2_wrapped.pth"))
    torch.save(state_dict_like(("module." + k, v) for k, v in off.items()),
               os.path.join(outdir, "official_dinov2_module.pth"))
    # block_chunks=2 training layout: blocks.{chunk}.{i}. with i counting globally
    chunked = collections.OrderedDict()
    for k, v in off.items():
        if k.startswith("blocks."):
            i = int(k.split(".")[1])
            k = "blocks.%d.%s" % (i // 1, k[len("blocks."):])
        chunked[k] = v
    torch.save(state_dict_like(chunked.items()), os.path.join(outdir, "official_dinov2_chunked.pth"))
    write_safetensors(os.path.join(outdir, "official_dinov2_f32.safetensors"), dict(off))
    write_safetensors(os.path.join(outdir, "official_dinov2_f16.safetensors"), {k: v.half() for k, v in off.items()})
    write_safetensors(os.path.join(outdir, "official_dinov2_bf16.safetensors"),
                      {k: v.bfloat16() for k, v in off.items()})
    # a view into a shared storage: torch.save keeps the offset, the reader must honour it
    shared = state_dict_like(off.items())
    big = torch.cat([torch.zeros(5), off["norm.bias"]])
    shared["norm.bias"] = big[5:]
    torch.save(shared, os.path.join(outdir, "official_dinov2_view.pth"))

    torch.save(state_dict_like((k, v.half()) for k, v in off.items()), os.path.join(outdir, "official_dinov2_half.pth"))
    torch.save(state_dict_like(off.items()), os.path.join(outdir, "official_dinov2_legacy.pth"),
               _use_new_zipfile_serialization=False)

    off_reg = official_dinov2(dino_reg, gen)
    torch.save(state_dict_like(off_reg.items()), os.path.join(outdir, "official_dinov2_reg.pth"))
    write_safetensors(os.path.join(outdir, "hf_dinov2.safetensors"), hf_dinov2(dino, gen))
    hf_cls = {"dinov2." + k: v for k, v in hf_dinov2(dino, gen).items()}
    hf_cls["classifier.weight"] = torch.randn(5, 2 * D, generator=gen)
    hf_cls["classifier.bias"] = torch.randn(5, generator=gen)
    write_safetensors(os.path.join(outdir, "hf_dinov2_classifier.safetensors"), hf_cls)
    write_safetensors(os.path.join(outdir, "hf_dinov2_reg.safetensors"), hf_dinov2(dino_reg, gen))
    write_safetensors(os.path.join(outdir, "timm_dinov2.safetensors"), timm_dinov2(dino))
    write_safetensors(os.path.join(outdir, "timm_dinov2_reg.safetensors"), timm_dinov2(dino_reg))

    torch.save(openai_clip(clip, gen), os.path.join(outdir, "openai_clip.pth"))
    write_safetensors(os.path.join(outdir, "hf_clip.safetensors"), hf_clip(clip, gen))
    write_safetensors(os.path.join(outdir, "timm_clip.safetensors"), timm_clip(clip, gen))

    # bad inputs
    broken = dict(off)
    del broken["blocks.1.attn.proj.weight"]
    write_safetensors(os.path.join(outdir, "missing_tensor.safetensors"), broken)
    odd = dict(off)
    odd["blocks.0.mlp.fc2.bias"] = torch.zeros(D + 1)
    write_safetensors(os.path.join(outdir, "misshaped_tensor.safetensors"), odd)
    extra = dict(off)
    extra["blocks.0.attn.rope"] = torch.zeros(3)
    write_safetensors(os.path.join(outdir, "unexpected_tensor.safetensors"), extra)
    write_safetensors(os.path.join(outdir, "unknown_scheme.safetensors"),
                      {"encoder.weight": torch.zeros(3, 3), "decoder.bias": torch.zeros(3)})


# ------------------------------------------------------------------ official EI checkpoints

RANKS, ALPHAS = [2, 4, 8], [4, 8, 16]


def mor_tensors(gen, d_in, d_out, prefix, route, a, b):
    """Official MoR keys for one adapted layer -> (official dict, canonical dict)."""
    off, can = {}, {}
    w = torch.randn(len(RANKS) + 1, d_in, generator=gen) * 0.3
    bias = torch.randn(len(RANKS) + 1, generator=gen) * 0.3
    off[prefix + route + ".weight"], off[prefix + route + ".bias"] = w, bias
    can["router.weight"], can["router.bias"] = w, bias
    for k, r in enumerate(RANKS):
        A = torch.randn(r, d_in, generator=gen) * 0.3
        B = torch.randn(d_out, r, generator=gen) * 0.3
        off[prefix + "%s.%d.weight" % (a, k)] = A
        off[prefix + "%s.%d.weight" % (b, k)] = B
        can["A%d" % k], can["B%d" % k] = A, B
    return off, can


def official_backbone_keys(c, family):
    """Canonical backbone -> the official EI stage-1 `backbone.` names (MoR base weights
    as `.linear` for the adapted layers fc1, fc2, qkv)."""
    out = {}
    for k, v in c.items():
        if family == "dinov2":
            k2 = official_dinov2({k: v}, torch.Generator().manual_seed(0))
            (name, value), = [(n, t) for n, t in k2.items() if n != "mask_token"]
        else:
            name = k.replace("patch_embed.", "patch_embed.proj.") if k.startswith("patch_embed.") else k
            value = v
        for layer in ("mlp.fc1.", "mlp.fc2.", "attn.qkv."):
            if layer in name:
                name = name.replace(layer, layer + "linear.")
        out[name] = value
    if family == "dinov2":
        out["mask_token"] = torch.zeros(1, D)
    return out


def make_ei(outdir, name, family, modality_idx, classes, loss, volume, differ=False):
    gen = torch.Generator().manual_seed(77 + len(name))
    M, C = len(modality_idx), len(classes)
    canon = random_canonical(family, R if family == "dinov2" else 0, gen)
    base = official_backbone_keys(canon, family)
    ckpt = collections.OrderedDict()
    expected = {"backbone." + k: v for k, v in canon.items()}
    targets = [("mlp.fc1.", "fc1", D, HID, "route", "lora_as", "lora_bs"),
               ("mlp.fc2.", "fc2", HID, D, "route", "lora_as", "lora_bs"),
               ("attn.qkv.", "q", D, D, "route_q", "lora_as_q", "lora_bs_q")]
    for m, o in enumerate(modality_idx):
        for role, stage in (("first_backbones", "aux"), ("second_backbones", "primary")):
            P_ = "%s.%s.backbone." % (role, o)
            for k, v in base.items():
                ckpt[P_ + k] = v.clone()
            for i in range(DEPTH):
                for layer, tgt, din, dout, route, a, b in targets:
                    off, can = mor_tensors(gen, din, dout, "blocks.%d.%s" % (i, layer), route, a, b)
                    for k, v in off.items():
                        ckpt[P_ + k] = v
                    for k, v in can.items():
                        expected["mor.%s.%d.blocks.%d.%s.%s" % (stage, m, i, tgt, k)] = v
            W = torch.randn(C, D, generator=gen) * 0.3
            bb = torch.randn(C, generator=gen) * 0.3
            ckpt["%s.%s.fc.weight" % (role, o)], ckpt["%s.%s.fc.bias" % (role, o)] = W, bb
            expected["head.%s.%d.weight" % (stage, m)], expected["head.%s.%d.bias" % (stage, m)] = W, bb
    for t, ot in enumerate(modality_idx):
        for r, orr in enumerate(modality_idx):
            if t == r:
                continue
            key = "projs_cls.%s_%s." % (ot, orr)
            vals = {"ln.weight": 1 + torch.randn(D, generator=gen) * 0.2, "ln.bias": torch.randn(D, generator=gen) * 0.2,
                    "mlp.0.weight": torch.randn(384, D, generator=gen) * 0.2, "mlp.0.bias": torch.randn(384, generator=gen) * 0.2,
                    "mlp.2.weight": torch.randn(D, 384, generator=gen) * 0.2, "mlp.2.bias": torch.randn(D, generator=gen) * 0.2}
            for k, v in vals.items():
                ckpt[key + k] = v
            ren = {"ln": "norm", "mlp.0": "fc1", "mlp.2": "fc2"}
            for k, v in vals.items():
                mod, p = k.rsplit(".", 1)
                expected["adapter.%d.%d.%s.%s" % (t, r, ren[mod], p)] = v
    route_w = torch.randn(M, M * D, generator=gen) * 0.2
    route_b = torch.randn(M, generator=gen) * 0.2
    ckpt["route.weight"], ckpt["route.bias"] = route_w, route_b
    # official gate order = sorted(str(idx)); canonical order = modality_idx order
    order = sorted(str(o) for o in modality_idx)
    perm = [order.index(str(o)) for o in modality_idx]
    gw = torch.stack([torch.cat([route_w[perm[m]][perm[j] * D:(perm[j] + 1) * D] for j in range(M)]) for m in range(M)])
    expected["gate.weight"], expected["gate.bias"] = gw, route_b[perm].clone()
    if differ:
        k = "second_backbones.%s.backbone.blocks.1.attn.proj.weight" % modality_idx[-1]
        ckpt[k] = ckpt[k].clone()
        ckpt[k][0, 0] += 1e-3
    ckpt._metadata = collections.OrderedDict([("", {"version": 1})])
    torch.save(ckpt, os.path.join(outdir, name + ".pth"))
    if not differ:
        # saved through nn.DataParallel: every key under "module."
        torch.save(state_dict_like(("module." + k, v) for k, v in ckpt.items()),
                   os.path.join(outdir, name + ".module.pth"))
        # saved on a GPU: the storages' location is "cuda:0" (written here on the CPU, then
        # the location strings of the pickle rewritten as a CUDA save has them)
        write_with_location(ckpt, os.path.join(outdir, name + ".cuda.pth"), "cuda:0")
    # the stage-1 checkpoint of the first modality: what first_backbones.{o} was built from
    o = str(modality_idx[0])
    uni = collections.OrderedDict((k[len("first_backbones.%s." % o):], v) for k, v in ckpt.items()
                                  if k.startswith("first_backbones.%s." % o))
    torch.save(state_dict_like(uni.items()), os.path.join(outdir, name + ".uni0.pth"))

    sizes = [{"size_h": 16, "size_w": 16} for _ in range(max(modality_idx) + 1)]
    config = {"net": "dinov2_b" if family == "dinov2" else "openclip_vit_b",
              "lora_params": {"r": RANKS, "alpha": ALPHAS}, "lora_layers": ["mlp_fc1", "mlp_fc2", "q"],
              "transfer_type": "mor", "augmentation_params": sizes, "loss_func": loss,
              "modality_idx": modality_idx, "prior_gaps": [1] + [0.001] * (M - 1),
              "mapping": {c: i for i, c in enumerate(classes)}, "lr": 0.001, "batch_size": 8}
    if volume:
        config["sampling_num"] = 4
    names = ["mod%d" % o for o in modality_idx]
    config["modality_names"] = names
    import numpy as np
    inputs = []
    for m, o in enumerate(modality_idx):
        x = torch.randn(4 if volume else 1, 3, 16, 16, generator=gen)
        np.save(os.path.join(outdir, "%s.input.%s.npy" % (name, names[m])), x.numpy().astype(np.float32))
        inputs.append(x)
    if not differ:
        with torch.no_grad():
            ref = official_logits(ckpt, family, modality_idx, inputs)
        ref["names"] = names
        with open(os.path.join(outdir, name + ".logits.json"), "w") as f:
            json.dump(ref, f)
    with open(os.path.join(outdir, name + ".json"), "w") as f:
        json.dump(config, f)
    write_safetensors(os.path.join(outdir, name + ".expected.safetensors"), expected)
    expected_config = {
        "family": family, "num_register_tokens": R if family == "dinov2" else 0, "classes": classes,
        "multilabel": loss == "bce", "modalities": M, "kind": "volume" if volume else "image",
        "mean": [0.48145466, 0.4578275, 0.40821073], "std": [0.26862954, 0.26130258, 0.27577711],
        "targets": ["fc1", "fc2", "q"]}
    with open(os.path.join(outdir, name + ".expected.json"), "w") as f:
        json.dump(expected_config, f)
    # the frozen backbone alone, canonical, to test --backbone
    write_safetensors(os.path.join(outdir, name + ".backbone.safetensors"), canon,
                      {"config": json.dumps({"num_heads": 2})})


# ------------------------------------------------------------------ the official forward

def official_logits(ckpt, family, modality_idx, inputs):
    """EI forward as the official code computes it (OFFICIAL_EI.md section 1.3), on the
    official key names: aux pass, INT from projs_cls in modality_idx order, primary pass
    with INT appended, mean / max slice pooling, gate over sorted(str(idx)).
    inputs[m]: [S, 3, H, W] (S = 1 for images), already normalised."""
    import torch.nn.functional as F
    eps = 1e-6 if family == "dinov2" else 1e-5
    act = (lambda x: F.gelu(x)) if family == "dinov2" else (lambda x: x * torch.sigmoid(1.702 * x))

    def mor(pfx, h, route="route", a="lora_as", b="lora_bs"):
        w = torch.softmax(F.linear(h, ckpt[pfx + route + ".weight"], ckpt[pfx + route + ".bias"]), -1)
        y = 0
        for k, (r, al) in enumerate(zip(RANKS, ALPHAS)):
            y = y + w[..., k + 1:k + 2] * (al / r) * F.linear(F.linear(h, ckpt[pfx + "%s.%d.weight" % (a, k)]),
                                                              ckpt[pfx + "%s.%d.weight" % (b, k)])
        return y

    def backbone(P, x, extra=None):
        g = lambda n: ckpt[P + n]
        t = F.conv2d(x, g("patch_embed.proj.weight"), g("patch_embed.proj.bias") if family == "dinov2" else None, stride=P_)
        t = t.flatten(2).transpose(1, 2)
        t = torch.cat([g("cls_token").expand(t.shape[0], -1, -1), t], 1) + g("pos_embed")
        if family == "dinov2":
            t = torch.cat([t[:, :1], g("register_tokens").expand(t.shape[0], -1, -1), t[:, 1:]], 1)
        else:
            t = F.layer_norm(t, (D,), g("norm_pre.weight"), g("norm_pre.bias"), eps)
        if extra is not None:
            t = torch.cat([t, extra.expand(t.shape[0], -1, -1)], 1)
        for i in range(DEPTH):
            B = "blocks.%d." % i
            h = F.layer_norm(t, (D,), g(B + "norm1.weight"), g(B + "norm1.bias"), eps)
            qkv = F.linear(h, g(B + "attn.qkv.linear.weight"), g(B + "attn.qkv.linear.bias"))
            qkv = qkv + torch.cat([mor(P + B + "attn.qkv.", h, "route_q", "lora_as_q", "lora_bs_q"),
                                   torch.zeros(*h.shape[:-1], 2 * D)], -1)
            q, k, v = qkv.reshape(t.shape[0], t.shape[1], 3, 2, D // 2).permute(2, 0, 3, 1, 4)
            att = torch.softmax(q @ k.transpose(-1, -2) * (D // 2) ** -0.5, -1) @ v
            o = F.linear(att.transpose(1, 2).reshape(t.shape), g(B + "attn.proj.weight"), g(B + "attn.proj.bias"))
            t = t + (o * g(B + "ls1.gamma") if family == "dinov2" else o)
            h = F.layer_norm(t, (D,), g(B + "norm2.weight"), g(B + "norm2.bias"), eps)
            u = F.linear(h, g(B + "mlp.fc1.linear.weight"), g(B + "mlp.fc1.linear.bias")) + mor(P + B + "mlp.fc1.", h)
            u = act(u)
            o = F.linear(u, g(B + "mlp.fc2.linear.weight"), g(B + "mlp.fc2.linear.bias")) + mor(P + B + "mlp.fc2.", u)
            t = t + (o * g(B + "ls2.gamma") if family == "dinov2" else o)
        return F.layer_norm(t, (D,), g("norm.weight"), g("norm.bias"), eps)

    M = len(modality_idx)
    aux_cls, aux_logits = [], []
    for m, o in enumerate(modality_idx):
        tok = backbone("first_backbones.%s.backbone." % o, inputs[m])
        cls = tok[:, 0]
        aux_cls.append(cls.max(0).values)
        fc = "first_backbones.%s.fc." % o
        aux_logits.append(F.linear(cls, ckpt[fc + "weight"], ckpt[fc + "bias"]).max(0).values)
    prim_cls, prim_logits = [], []
    for t, ot in enumerate(modality_idx):
        ints = []
        for r, orr in enumerate(modality_idx):
            if r == t:
                continue
            pc = "projs_cls.%s_%s." % (ot, orr)
            z = F.layer_norm(aux_cls[r], (D,), ckpt[pc + "ln.weight"], ckpt[pc + "ln.bias"], 1e-6)
            z = F.linear(F.gelu(F.linear(z, ckpt[pc + "mlp.0.weight"], ckpt[pc + "mlp.0.bias"])),
                         ckpt[pc + "mlp.2.weight"], ckpt[pc + "mlp.2.bias"])
            ints.append(z)
        tok = backbone("second_backbones.%s.backbone." % ot, inputs[t], torch.stack(ints)[None]).mean(0)
        prim_cls.append(tok[0])
        fc = "second_backbones.%s.fc." % ot
        prim_logits.append(F.linear(tok[0], ckpt[fc + "weight"], ckpt[fc + "bias"]))
    order = sorted(range(M), key=lambda m: str(modality_idx[m]))
    alpha = torch.softmax(F.linear(torch.cat([prim_cls[m] for m in order]), ckpt["route.weight"], ckpt["route.bias"]), -1)
    fused = sum(alpha[j] * prim_logits[m] for j, m in enumerate(order))
    gate = [0.0] * M
    for j, m in enumerate(order):
        gate[m] = float(alpha[j])
    return {"fused": fused.tolist(), "logits": [l.tolist() for l in prim_logits],
            "aux_logits": [l.tolist() for l in aux_logits], "gate": gate}


def make_eis(outdir):
    make_ei(outdir, "ei_dinov2", "dinov2", [0, 1], ["no_amd", "dry_amd", "pcv", "wet_amd"], "ce", False)
    make_ei(outdir, "ei_clip_permuted", "clip", [1, 0], ["BCC", "NEV", "MEL"], "ce", False)
    make_ei(outdir, "ei_mrnet", "dinov2", [0, 1, 2], ["abnormal", "meniscus", "acl"], "bce", True)
    make_ei(outdir, "ei_differ", "dinov2", [0, 1], ["a", "b"], "ce", False, differ=True)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("backbone", "ei"):
        sys.exit(__doc__)
    os.makedirs(sys.argv[2], exist_ok=True)
    (make_backbones if sys.argv[1] == "backbone" else make_eis)(sys.argv[2])
