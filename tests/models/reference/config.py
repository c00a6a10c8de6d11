# The model config of MODEL.md section 7 with its defaults filled in (the reference only
# needs the values; the engine is the one that validates unknown keys).
import copy

BACKBONE_DEFAULTS = {
    "family": "dinov2", "patch_size": 14, "embed_dim": 768, "depth": 12, "num_heads": 12,
    "mlp_ratio": 4.0, "num_register_tokens": 0, "pos_grid": [37, 37], "norm_eps": 1e-6,
    "layer_scale": True, "act": "gelu", "pre_norm": False, "patch_bias": True,
    "pos_interp": "auto", "pad_to_patch": True,
}

MODEL_DEFAULTS = {
    "multilabel": False,
    "fusion": "ei",
    "mor": {"ranks": [2, 4, 8], "alphas": [4, 8, 16], "targets": ["fc1", "fc2"], "bypass": True},
    "int": {"insert_layer": 0},  # acquire_layer defaults to depth
    "adapter": {"per_pair": True, "hidden": 384, "norm": True},
    "slice_pool": {"aux": "max", "primary": "mean"},
    "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225],
}


def fill_backbone(bb):
    out = copy.deepcopy(BACKBONE_DEFAULTS)
    out.update(copy.deepcopy(bb or {}))
    return out


def fill_model(cfg):
    out = copy.deepcopy(cfg)
    out["backbone"] = fill_backbone(cfg.get("backbone"))
    for key, value in MODEL_DEFAULTS.items():
        if isinstance(value, dict):
            merged = copy.deepcopy(value)
            merged.update(copy.deepcopy(cfg.get(key, {})))
            out[key] = merged
        else:
            out.setdefault(key, copy.deepcopy(value))
    out["int"].setdefault("acquire_layer", out["backbone"]["depth"])
    for m in out["modalities"]:
        m.setdefault("kind", "image")
        if m["kind"] == "volume":
            m.setdefault("slices", 4)
    return out
