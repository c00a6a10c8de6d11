#!/usr/bin/python3
# Parity of the C++ engine (eiview-cli init / infer / embed) with the independent PyTorch
# reference in reference/ (MODEL.md sections 1-4, 7-9). Each case writes a config, makes a
# model with `init --random-adapters` (so every MoR / adapter / gate / head term is live),
# runs `infer` on random input tensors, runs the same model file and tensors through the
# reference (float64) and requires logits, aux_logits, probs, fused, gate and every map to
# agree within 1e-4 (|cpp - ref| <= 1e-4 * max(1, |ref|)).
# Usage: parity_test.py [--case NAME ...] [--list]; env EIVIEW_CLI = the built eiview-cli.
import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference.backbone import random_backbone_weights  # noqa: E402
from reference.config import fill_backbone  # noqa: E402
from reference.ei_model import EiModel, load_backbone_file  # noqa: E402
from reference.safetensors_io import write_safetensors  # noqa: E402

TOL = 1e-4
# Reduced precisions (--precision bf16): the tolerances documented in docs/model.md
# ("Precision"), absolute for probabilities, gate weights and maps (all within [-1, 1]),
# relative (as TOL) for logits and tokens. fp32 and tf32 keep TOL (tf32 is fp32 on the CPU).
REDUCED_TOL = {"probs": 0.02, "gate": 0.02, "map": 0.05, "logits": 0.1, "tokens": 0.1}
PRECISION = "fp32"


def tolerance(what):
    """(tolerance, relative) for one compared quantity at the chosen precision."""
    if PRECISION in ("fp32", "tf32"):
        return TOL, True
    if what.startswith("map"):
        return REDUCED_TOL["map"], False
    if what == "gate" or what.endswith("probs"):
        return REDUCED_TOL["probs"], False
    if what == "tokens":
        return REDUCED_TOL["tokens"], True
    return REDUCED_TOL["logits"], True

DINO = {"family": "dinov2", "patch_size": 14, "embed_dim": 32, "depth": 3, "num_heads": 2,
        "mlp_ratio": 4.0, "num_register_tokens": 0, "pos_grid": [4, 4], "norm_eps": 1e-6,
        "layer_scale": True, "act": "gelu", "pre_norm": False, "patch_bias": True,
        "pos_interp": "auto", "pad_to_patch": True}
DINO_REG = dict(DINO, num_register_tokens=4, embed_dim=48, num_heads=4)
CLIP = {"family": "clip", "patch_size": 16, "embed_dim": 48, "depth": 2, "num_heads": 3,
        "mlp_ratio": 4.0, "num_register_tokens": 0, "pos_grid": [4, 4], "norm_eps": 1e-5,
        "layer_scale": False, "act": "quick_gelu", "pre_norm": True, "patch_bias": False,
        "pos_interp": "auto", "pad_to_patch": True}
CLASSES3 = ["a", "b", "c"]


def img(name, h, w):
    return {"name": name, "kind": "image", "size": [h, w]}


def vol(name, h, w, s=4):
    return {"name": name, "kind": "volume", "size": [h, w], "slices": s}


def model_case(backbone, modalities, own_backbone=True, seed=7, **extra):
    cfg = {"backbone": copy.deepcopy(backbone), "modalities": modalities, "classes": CLASSES3,
           "adapter": {"per_pair": True, "hidden": 24, "norm": True}}
    cfg.update(copy.deepcopy(extra))
    return {"kind": "infer", "config": cfg, "own_backbone": own_backbone, "seed": seed}


ALL6 = ["q", "k", "v", "proj", "fc1", "fc2"]

CASES = {
    # DINOv2 with registers at its base grid (no interpolation), default fc1/fc2 MoR, M = 2
    "dinov2_reg_base_grid": model_case(DINO_REG, [img("CFP", 56, 56), img("OCT", 56, 56)]),
    # DINOv2 with registers, non-square: auto = size + antialias
    "dinov2_reg_nonsquare": model_case(DINO_REG, [img("CFP", 70, 42), img("OCT", 42, 84)]),
    # DINOv2 without registers, non-square: auto = offset (scale_factor (n + 0.1) / G)
    "dinov2_offset_nonsquare": model_case(DINO, [img("CFP", 70, 42), img("OCT", 84, 98)]),
    # forced modes, and sizes that need padding to the patch
    "dinov2_size_padded": model_case(dict(DINO, pos_interp="size"), [img("CFP", 50, 60), img("OCT", 30, 45)]),
    "dinov2_size_antialias_padded": model_case(dict(DINO, pos_interp="size_antialias"),
                                               [img("CFP", 71, 43), img("OCT", 100, 57)]),
    "dinov2_offset_forced_reg": model_case(dict(DINO_REG, pos_interp="offset"), [img("CFP", 84, 70), img("OCT", 56, 42)]),
    # CLIP: QuickGELU, norm_pre, no patch bias, eps 1e-5, auto = size without antialias
    "clip_nonsquare": model_case(CLIP, [img("CFP", 80, 48), img("OCT", 64, 64)]),
    "clip_padded_insert_acquire": model_case(CLIP, [img("A", 70, 50), img("B", 48, 96)],
                                             int={"insert_layer": 1, "acquire_layer": 1}),
    # M = 3 with a volume (S = 4, default slice pooling), attention targets, other insert/acquire
    "m3_volume_qkvproj": model_case(DINO_REG, [img("SAG", 56, 56), vol("COR", 42, 56), img("AX", 56, 42)],
                                    mor={"targets": ["q", "k", "v", "proj"]},
                                    int={"insert_layer": 2, "acquire_layer": 2}),
    # volume with non-default pooling (aux mean, primary max), multi-label
    "volume_pool_nondefault_multilabel": model_case(DINO, [vol("V1", 56, 42, 3), img("I2", 56, 56)],
                                                     slice_pool={"aux": "mean", "primary": "max"},
                                                     multilabel=True),
    # MoR without bypass on all six targets, other ranks, shared adapter without norm
    "mor_nobypass_shared_adapter": model_case(DINO, [img("CFP", 56, 70), img("OCT", 56, 56)],
                                              mor={"ranks": [2, 4], "alphas": [3, 8], "targets": ALL6,
                                                   "bypass": False},
                                              adapter={"per_pair": False, "hidden": 16, "norm": False},
                                              int={"insert_layer": 1, "acquire_layer": 3}),
    # shared adapter with norm, default hidden width (384), M = 3, bypass on, all targets
    "m3_shared_adapter_all_targets": model_case(CLIP, [img("A", 48, 48), img("B", 64, 48), img("C", 48, 80)],
                                                mor={"targets": ALL6},
                                                adapter={"per_pair": False, "hidden": 384, "norm": True}),
    # late fusion (no INT, no aux passes) with a volume; unimodal image and volume
    "late_volume": model_case(DINO_REG, [img("CFP", 56, 42), vol("MRI", 56, 56, 3)], fusion="late",
                              mor={"targets": ["v", "fc2"]}),
    "unimodal_image": model_case(CLIP, [img("CFP", 64, 80)], fusion="unimodal"),
    "unimodal_volume": model_case(DINO, [vol("MRI", 42, 42, 4)], fusion="unimodal", multilabel=True),
    # the engine's own random backbone, embedded in the .eimodel (no --backbone)
    "embedded_backbone": model_case(DINO, [img("CFP", 56, 42), img("OCT", 42, 42)], own_backbone=False),
    # embed: backbone tokens only
    "embed_dinov2_reg": {"kind": "embed", "backbone": DINO_REG, "size": (70, 42)},
    "embed_dinov2_offset_padded": {"kind": "embed", "backbone": DINO, "size": (60, 45)},
    "embed_clip": {"kind": "embed", "backbone": CLIP, "size": (48, 80)},
    "embed_base_grid": {"kind": "embed", "backbone": dict(DINO, pos_interp="size_antialias"), "size": (56, 56)},
    # bad input the spec fixes: exit 3
    "refuse_unpadded_size": {"kind": "refuse", "what": "unpadded"},
    "refuse_wrong_slice_count": {"kind": "refuse", "what": "slices"},
}


class Failure(Exception):
    pass


def cli():
    path = os.environ.get("EIVIEW_CLI")
    if not path or not os.path.exists(path):
        raise Failure("EIVIEW_CLI does not name the built eiview-cli")
    return path


def run(args, expect=0):
    proc = subprocess.run([cli()] + [str(a) for a in args], capture_output=True, text=True, timeout=300)
    if proc.returncode != expect:
        raise Failure(f"eiview-cli {' '.join(map(str, args))}: exit {proc.returncode}, expected {expect}\n"
                      f"stdout: {proc.stdout[-2000:]}\nstderr: {proc.stderr[-2000:]}")
    return proc


def compare(what, cpp, ref, report):
    cpp = np.asarray(cpp, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    if cpp.shape != ref.shape:
        raise Failure(f"{what}: shape {cpp.shape}, reference {ref.shape}")
    tol, relative = tolerance(what)
    err = np.abs(cpp - ref) / (np.maximum(1.0, np.abs(ref)) if relative else 1.0)
    worst = float(err.max()) if err.size else 0.0
    report.append((what, worst))
    if not np.all(np.isfinite(cpp)) or worst > tol:
        i = np.unravel_index(int(np.argmax(err)), err.shape) if err.size else ()
        raise Failure(f"{what}: differs by {worst:.3g} (> {tol}) at {i}: cpp {cpp[i]}, reference {ref[i]}")


def write_backbone(path, bb, seed):
    bb = fill_backbone(bb)
    write_safetensors(path, random_backbone_weights(bb, seed), {"config": json.dumps(bb)})


def make_inputs(cfg, rng, tmp):
    inputs, args = {}, []
    for m in cfg["modalities"]:
        s = m.get("slices", 4) if m.get("kind") == "volume" else 1
        h, w = m["size"]
        x = rng.standard_normal((s, 3, h, w)).astype(np.float32)
        path = os.path.join(tmp, f"{m['name']}.npy")
        np.save(path, x)
        inputs[m["name"]] = torch.from_numpy(x)
        args += ["--input-tensor", f"{m['name']}={path}"]
    return inputs, args


def run_infer_case(case, tmp, report):
    cfg = case["config"]
    cfg_path = os.path.join(tmp, "config.json")
    with open(cfg_path, "w") as f:
        json.dump(cfg, f, indent=1)
    model = os.path.join(tmp, "m.eimodel")
    init = ["init", "--config", cfg_path, "--seed", case["seed"], "--random-adapters", "--out", model]
    if case["own_backbone"]:
        bpath = os.path.join(tmp, "backbone.safetensors")
        write_backbone(bpath, cfg["backbone"], case["seed"] + 1000)
        init += ["--backbone", bpath]
    run(init)
    rng = np.random.default_rng(case["seed"])
    inputs, in_args = make_inputs(cfg, rng, tmp)
    maps_dir = os.path.join(tmp, "maps")
    out_json = os.path.join(tmp, "out.json")
    run(["infer", "--model", model, "--device", "cpu", "--precision", PRECISION, "--maps", maps_dir,
         "--json", out_json] + in_args)
    with open(out_json) as f:
        got = json.load(f)
    ref = EiModel(model).forward(inputs)

    fusion = cfg.get("fusion", "ei")
    if got.get("fusion") != fusion:
        raise Failure(f"JSON fusion {got.get('fusion')!r}, config says {fusion!r}")
    if got.get("classes") != cfg["classes"]:
        raise Failure(f"JSON classes {got.get('classes')}, config says {cfg['classes']}")
    if [m["name"] for m in got["modalities"]] != [m["name"] for m in ref["modalities"]]:
        raise Failure(f"JSON modalities {[m['name'] for m in got['modalities']]}")
    for g, r in zip(got["modalities"], ref["modalities"]):
        for key in ("logits", "probs", "aux_logits"):
            if key in r:
                if key not in g:
                    raise Failure(f"{g['name']}: JSON lacks {key}")
                compare(f"{g['name']}.{key}", g[key], r[key], report)
        if fusion == "late" and g.get("aux_logits"):
            raise Failure(f"{g['name']}: late fusion reports aux_logits {g['aux_logits']}")
    compare("fused.logits", got["fused"]["logits"], ref["fused"]["logits"], report)
    compare("fused.probs", got["fused"]["probs"], ref["fused"]["probs"], report)
    compare("gate", got["gate"], ref["gate"], report)
    for stem, arr in sorted(ref["maps"].items()):
        path = os.path.join(maps_dir, stem + ".npy")
        if not os.path.exists(path):
            raise Failure(f"map {stem}.npy not written (have {sorted(os.listdir(maps_dir))})")
        # an image's map is [gh, gw], a volume's [S, gh, gw] (MODEL.md 9.6): shapes compared exactly
        compare(f"map {stem}", np.load(path), arr, report)
    extra = {f[:-4] for f in os.listdir(maps_dir) if f.endswith(".npy")} - set(ref["maps"])
    if extra:
        raise Failure(f"maps the spec does not ask for: {sorted(extra)}")


def run_embed_case(case, tmp, report):
    bpath = os.path.join(tmp, "backbone.safetensors")
    write_backbone(bpath, case["backbone"], 99)
    h, w = case["size"]
    x = np.random.default_rng(5).standard_normal((1, 3, h, w)).astype(np.float32)
    xpath, out = os.path.join(tmp, "x.npy"), os.path.join(tmp, "tokens.npy")
    np.save(xpath, x)
    run(["embed", "--backbone", bpath, "--input-tensor", xpath, "--out", out, "--precision", PRECISION])
    bb = load_backbone_file(bpath)
    with torch.no_grad():
        tokens, _, _ = bb.forward(torch.from_numpy(x))
    compare("tokens", np.load(out), tokens[0].numpy(), report)


def run_refuse_case(case, tmp, report):
    cfg = {"backbone": dict(DINO, pad_to_patch=case["what"] != "unpadded"), "classes": CLASSES3,
           "modalities": [img("CFP", 56, 56), vol("MRI", 56, 56, 4)]}
    cfg_path, model = os.path.join(tmp, "config.json"), os.path.join(tmp, "m.eimodel")
    with open(cfg_path, "w") as f:
        json.dump(cfg, f)
    run(["init", "--config", cfg_path, "--seed", 1, "--out", model])
    rng = np.random.default_rng(1)
    shapes = {"CFP": (1, 3, 50, 56) if case["what"] == "unpadded" else (1, 3, 56, 56),
              "MRI": (4, 3, 56, 56) if case["what"] == "unpadded" else (3, 3, 56, 56)}
    args = []
    for name, shape in shapes.items():
        p = os.path.join(tmp, name + ".npy")
        np.save(p, rng.standard_normal(shape).astype(np.float32))
        args += ["--input-tensor", f"{name}={p}"]
    proc = run(["infer", "--model", model, "--device", "cpu", "--json", os.path.join(tmp, "o.json")] + args,
               expect=3)
    bad = "CFP" if case["what"] == "unpadded" else "MRI"
    if bad not in proc.stderr and bad + ".npy" not in proc.stderr:
        raise Failure(f"the message does not name the input {bad}: {proc.stderr.strip()}")
    if os.path.exists(os.path.join(tmp, "o.json")):
        raise Failure("a JSON output was written despite the error")
    report.append(("exit 3", 0.0))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--case", action="append")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--precision", default="fp32", choices=["fp32", "tf32", "bf16"],
                    help="the engine's precision; the reference stays float64")
    ap.add_argument("--dump-cases", metavar="FILE",
                    help="write the inference cases' configs as JSON (eiview-bench parity reads it)")
    args = ap.parse_args()
    if args.list:
        print("\n".join(CASES))
        return 0
    if args.dump_cases:
        cases = [{"name": n, "config": c["config"], "seed": c["seed"]} for n, c in CASES.items() if c["kind"] == "infer"]
        with open(args.dump_cases, "w") as f:
            json.dump(cases, f, indent=1)
        return 0
    global PRECISION
    PRECISION = args.precision
    names = args.case or list(CASES)
    unknown = [n for n in names if n not in CASES]
    if unknown:
        print(f"unknown case(s): {unknown}", file=sys.stderr)
        return 2
    torch.set_num_threads(1)
    failed = []
    for name in names:
        case = CASES[name]
        report = []
        with tempfile.TemporaryDirectory(prefix=f"parity_{name}_") as tmp:
            try:
                {"infer": run_infer_case, "embed": run_embed_case, "refuse": run_refuse_case}[case["kind"]](
                    case, tmp, report)
                worst = max((e for _, e in report), default=0.0)
                print(f"PASS {name}: {len(report)} comparisons, worst {worst:.2e}")
                if args.verbose:
                    for what, e in report:
                        print(f"    {what}: {e:.2e}")
            except Failure as e:
                failed.append(name)
                print(f"FAIL {name}: {e}")
    if failed:
        print(f"{len(failed)} of {len(names)} failed: {' '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
