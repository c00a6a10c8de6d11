# The EI network of MODEL.md sections 3-4 (early intervention, late and unimodal fusion,
# volumes with slice pooling, similarity maps), read from an .eimodel file.
import hashlib
import json
import os

import torch
import torch.nn.functional as F

from .backbone import Backbone, MorSet
from .config import fill_backbone, fill_model
from .safetensors_io import read_safetensors


def load_backbone_file(path, dtype=torch.float64):
    """A backbone-only file (MODEL.md 9.8): canonical names, `config` metadata."""
    tensors, meta = read_safetensors(path)
    return Backbone(fill_backbone(json.loads(meta["config"])), tensors, "", dtype)


def _pool(x, how):
    return x.max(dim=0).values if how == "max" else x.mean(dim=0)


def _cos_map(tokens, first, R, grid):
    """cos(P[n], ref) over the patch tokens of one slice: tokens [T, d], ref [d] -> [gh, gw]."""
    gh, gw = grid
    patches = tokens[1 + R:1 + R + gh * gw]
    return F.cosine_similarity(patches, first.unsqueeze(0).expand_as(patches), dim=-1).reshape(gh, gw)


class EiModel:
    def __init__(self, path, dtype=torch.float64):
        tensors, meta = read_safetensors(path)
        if meta.get("format") != "eiview-model":
            raise ValueError(f"{path}: not an eiview-model file")
        self.cfg = fill_model(json.loads(meta["config"]))
        self.dtype = dtype
        if any(k.startswith("backbone.") for k in tensors):
            self.backbone = Backbone(self.cfg["backbone"], tensors, "backbone.", dtype)
        else:
            bpath = os.path.join(os.path.dirname(os.path.abspath(path)), meta["backbone_file"])
            with open(bpath, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()
            if digest != meta["backbone_sha256"].lower():
                raise ValueError(f"{bpath}: SHA-256 differs from the model's")
            bt, _ = read_safetensors(bpath)
            self.backbone = Backbone(self.cfg["backbone"], bt, "", dtype)
        self.w = {k: v.to(dtype) for k, v in tensors.items() if not k.startswith("backbone.")}
        mor = self.cfg["mor"]
        self.names = [m["name"] for m in self.cfg["modalities"]]
        self.M = len(self.names)
        depth = self.cfg["backbone"]["depth"]

        def mor_set(role, m):
            return MorSet(self.w, f"mor.{role}.{m}", depth, mor["targets"], mor["ranks"],
                          mor["alphas"], mor["bypass"])

        fusion = self.cfg["fusion"]
        self.sets = {}
        roles = {"ei": ("aux", "primary"), "late": ("primary",), "unimodal": ("uni",)}[fusion]
        for role in roles:
            for m in range(self.M):
                self.sets[(role, m)] = mor_set(role, m)

    # -- pieces ---------------------------------------------------------------------------
    def _head(self, role, m, x):
        return x @ self.w[f"head.{role}.{m}.weight"].t() + self.w[f"head.{role}.{m}.bias"]

    def _adapter(self, t, r, x):
        a = self.cfg["adapter"]
        p = f"adapter.{t}.{r}." if a["per_pair"] else "adapter."
        if a["norm"]:
            x = F.layer_norm(x, (x.shape[-1],), self.w[p + "norm.weight"], self.w[p + "norm.bias"], 1e-6)
        x = F.gelu(x @ self.w[p + "fc1.weight"].t() + self.w[p + "fc1.bias"])
        return x @ self.w[p + "fc2.weight"].t() + self.w[p + "fc2.bias"]

    def _probs(self, logits):
        return torch.sigmoid(logits) if self.cfg["multilabel"] else torch.softmax(logits, dim=-1)

    def _input(self, m, x):
        x = torch.as_tensor(x).to(self.dtype)
        mod = self.cfg["modalities"][m]
        if mod["kind"] == "volume" and x.shape[0] != mod["slices"]:
            raise ValueError(f"{mod['name']}: volume input must hold {mod['slices']} slices")
        return x

    # -- forward --------------------------------------------------------------------------
    def forward(self, inputs):
        """inputs: dict name -> [S,3,H,W]. Returns a dict shaped like `infer`'s JSON, plus
        'maps': file stem -> array ([gh,gw] for an image, [S,gh,gw] for a volume)."""
        with torch.no_grad():
            return getattr(self, "_" + self.cfg["fusion"])(inputs)

    def _maps_of(self, m, tokens, grid):
        return torch.stack([_cos_map(tokens[s], tokens[s, 0], self.backbone.R, grid)
                            for s in range(tokens.shape[0])])

    def _shape_map(self, m, arr):
        if self.cfg["modalities"][m]["kind"] != "volume":
            arr = arr[0]
        return arr.detach().numpy()

    def _ei(self, inputs):
        bb, cfg = self.backbone, self.cfg
        pool = cfg["slice_pool"]
        il, al = cfg["int"]["insert_layer"], cfg["int"]["acquire_layer"]
        xs = [self._input(m, inputs[n]) for m, n in enumerate(self.names)]
        aux_logits, int_src = [], []
        for m in range(self.M):
            tok, acq, _ = bb.forward(xs[m], self.sets[("aux", m)], acquire_layer=al)
            aux_logits.append(_pool(self._head("aux", m, tok[:, 0]), pool["aux"]))
            int_src.append(_pool(acq, pool["aux"]))
        out = {"modalities": [], "maps": {}}
        cls_p = []
        for t in range(self.M):
            refs = [r for r in range(self.M) if r != t]
            S = xs[t].shape[0]
            INT = torch.stack([self._adapter(t, r, int_src[r]) for r in refs]).unsqueeze(0).expand(S, -1, -1)
            tok, _, grid = bb.forward(xs[t], self.sets[("primary", t)], extra=INT, insert_layer=il)
            pooled = _pool(tok, pool["primary"])
            cls_p.append(pooled[0])
            logits = self._head("primary", t, pooled[0])
            out["modalities"].append({"name": self.names[t], "logits": logits, "probs": self._probs(logits),
                                      "aux_logits": aux_logits[t]})
            # maps: each slice against its own slice-level CLS / INT outputs
            name = self.names[t]
            cls_map = self._maps_of(t, tok, grid)
            tok0, _, _ = bb.forward(xs[t], self.sets[("primary", t)])
            noint = self._maps_of(t, tok0, grid)
            out["maps"][f"{name}_cls"] = self._shape_map(t, cls_map)
            out["maps"][f"{name}_cls_noint"] = self._shape_map(t, noint)
            out["maps"][f"{name}_delta"] = self._shape_map(t, cls_map - noint)
            n_prefix = 1 + bb.R + grid[0] * grid[1]
            for j, r in enumerate(refs):
                m_int = torch.stack([_cos_map(tok[s], tok[s, n_prefix + j], bb.R, grid) for s in range(S)])
                out["maps"][f"{name}_int_{self.names[r]}"] = self._shape_map(t, m_int)
        self._fuse(out, cls_p)
        return out

    def _late(self, inputs):
        bb, pool = self.backbone, self.cfg["slice_pool"]
        out = {"modalities": [], "maps": {}}
        cls_p = []
        for t in range(self.M):
            x = self._input(t, inputs[self.names[t]])
            tok, _, grid = bb.forward(x, self.sets[("primary", t)])
            pooled = _pool(tok, pool["primary"])
            cls_p.append(pooled[0])
            logits = self._head("primary", t, pooled[0])
            out["modalities"].append({"name": self.names[t], "logits": logits, "probs": self._probs(logits)})
            out["maps"][f"{self.names[t]}_cls"] = self._shape_map(t, self._maps_of(t, tok, grid))
        self._fuse(out, cls_p)
        return out

    def _unimodal(self, inputs):
        bb = self.backbone
        x = self._input(0, inputs[self.names[0]])
        tok, _, grid = bb.forward(x, self.sets[("uni", 0)])
        logits = self._head("uni", 0, tok[:, 0]).max(dim=0).values
        probs = self._probs(logits)
        return {"modalities": [{"name": self.names[0], "logits": logits, "probs": probs}],
                "maps": {f"{self.names[0]}_cls": self._shape_map(0, self._maps_of(0, tok, grid))},
                "fused": {"logits": logits, "probs": probs}, "gate": torch.ones(1, dtype=self.dtype)}

    def _fuse(self, out, cls_p):
        alpha = torch.softmax(torch.cat(cls_p) @ self.w["gate.weight"].t() + self.w["gate.bias"], dim=-1)
        fused = sum(alpha[t] * out["modalities"][t]["logits"] for t in range(self.M))
        out["fused"] = {"logits": fused, "probs": self._probs(fused)}
        out["gate"] = alpha
