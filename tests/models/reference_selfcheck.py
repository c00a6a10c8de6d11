#!/usr/bin/python3
# Checks of the PyTorch reference itself against references outside it, so that the parity
# tests compare the engine with something known to be right:
# - position-embedding interpolation against an explicit Keys-cubic (a = -0.75) resampler
#   with the coordinate maps VFM_WEIGHTS.md section 2.4 gives for `offset` and `size`, and
#   against torch.nn.functional.interpolate called as that section says for `size_antialias`;
# - a backbone block (no LayerScale) against torch.nn.TransformerEncoderLayer (norm_first);
# - MoR: identity at init (B = 0), and the per-rank sum equal to the rank-14 product form;
# - every parity case's model through the reference: finite outputs, probabilities, gate on
#   the simplex, maps in [-1, 1], delta = cls - cls_noint, unimodal = max over slices.
import math
import os
import sys
import tempfile
import unittest

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference.backbone import Backbone, MorSet, interpolate_pos_embed, random_backbone_weights  # noqa: E402
from reference.config import fill_backbone, fill_model  # noqa: E402
from reference.ei_model import EiModel  # noqa: E402
from reference.model_file import random_eimodel_weights, write_eimodel  # noqa: E402
import parity_test  # noqa: E402


def keys_cubic_resize_1d(src, n_out, coord):
    """Resample axis 0 of src with the Keys kernel a = -0.75, edge samples replicated;
    coord(dst) gives the source coordinate of output sample dst."""
    a = -0.75

    def k(t):
        t = abs(t)
        if t <= 1:
            return (a + 2) * t ** 3 - (a + 3) * t ** 2 + 1
        if t < 2:
            return a * t ** 3 - 5 * a * t ** 2 + 8 * a * t - 4 * a
        return 0.0

    n_in = src.shape[0]
    out = np.zeros((n_out,) + src.shape[1:])
    for j in range(n_out):
        x = coord(j)
        x0 = math.floor(x)
        for m in range(x0 - 1, x0 + 3):
            out[j] += k(x - m) * src[min(max(m, 0), n_in - 1)]
    return out


def explicit_resize(grid, g_in, g_out, scale):
    """grid [Gh, Gw, d] -> [gh, gw, d]; scale(n_in, n_out) is the coordinate ratio."""
    tmp = keys_cubic_resize_1d(grid, g_out[0], lambda j: (j + 0.5) * scale(g_in[0], g_out[0]) - 0.5)
    tmp = keys_cubic_resize_1d(tmp.transpose(1, 0, 2), g_out[1], lambda j: (j + 0.5) * scale(g_in[1], g_out[1]) - 0.5)
    return tmp.transpose(1, 0, 2)


class PosInterp(unittest.TestCase):
    def setUp(self):
        self.G = (5, 4)
        self.d = 6
        self.pos = torch.randn(1, 1 + 20, self.d, generator=torch.Generator().manual_seed(3), dtype=torch.float64)

    def check_explicit(self, mode, target, scale):
        out = interpolate_pos_embed(self.pos, self.G, target, mode)
        self.assertEqual(tuple(out.shape), (1, 1 + target[0] * target[1], self.d))
        self.assertTrue(torch.equal(out[0, 0], self.pos[0, 0]), "class entry must stay as it is")
        grid = self.pos[0, 1:].reshape(self.G[0], self.G[1], self.d).numpy()
        want = explicit_resize(grid, self.G, target, scale).reshape(-1, self.d)
        np.testing.assert_allclose(out[0, 1:].numpy(), want, atol=1e-5)

    def test_offset_maps_coordinates_with_n_plus_0_1(self):
        for target in [(7, 3), (3, 9), (5, 6), (12, 4)]:
            self.check_explicit("offset", target, lambda n_in, n_out: n_in / (n_out + 0.1))

    def test_offset_moves_an_axis_of_base_length(self):
        out = interpolate_pos_embed(self.pos, self.G, (5, 6), "offset")
        rows = out[0, 1:].reshape(5, 6, self.d)
        same = interpolate_pos_embed(self.pos, self.G, (5, 6), "size")[0, 1:].reshape(5, 6, self.d)
        self.assertGreater(float((rows - same).abs().max()), 1e-3)

    def test_size_maps_coordinates_with_n(self):
        for target in [(7, 3), (3, 9), (8, 8)]:
            self.check_explicit("size", target, lambda n_in, n_out: n_in / n_out)

    def test_size_antialias_is_torch_interpolate(self):
        target = (3, 7)
        out = interpolate_pos_embed(self.pos, self.G, target, "size_antialias")
        patch = self.pos[:, 1:].float().reshape(1, 5, 4, self.d).permute(0, 3, 1, 2)
        want = F.interpolate(patch, size=target, mode="bicubic", align_corners=False, antialias=True)
        np.testing.assert_allclose(out[0, 1:].numpy(), want.permute(0, 2, 3, 1).reshape(-1, self.d).numpy(),
                                   atol=1e-6)
        plain = interpolate_pos_embed(self.pos, self.G, target, "size")
        self.assertGreater(float((plain - out).abs().max()), 1e-3, "antialias must change a downsample")

    def test_base_grid_is_untouched(self):
        for mode in ("offset", "size", "size_antialias"):
            self.assertTrue(torch.equal(interpolate_pos_embed(self.pos, self.G, self.G, mode), self.pos))

    def test_auto_mode_per_family(self):
        from reference.backbone import resolve_pos_interp
        self.assertEqual(resolve_pos_interp(fill_backbone({})), "offset")
        self.assertEqual(resolve_pos_interp(fill_backbone({"num_register_tokens": 4})), "size_antialias")
        self.assertEqual(resolve_pos_interp(fill_backbone({"family": "clip"})), "size")


class BlockMatchesTorch(unittest.TestCase):
    def check(self, act, torch_act):
        bb = fill_backbone({"embed_dim": 24, "depth": 1, "num_heads": 3, "layer_scale": False,
                            "act": act, "norm_eps": 1e-5, "pos_grid": [2, 2]})
        w = random_backbone_weights(bb, 11)
        ref = Backbone(bb, w, "", torch.float64)
        layer = torch.nn.TransformerEncoderLayer(24, 3, dim_feedforward=96, dropout=0.0, activation=torch_act,
                                                 layer_norm_eps=1e-5, batch_first=True, norm_first=True)
        layer = layer.double().eval()
        with torch.no_grad():
            sa = layer.self_attn
            sa.in_proj_weight.copy_(w["blocks.0.attn.qkv.weight"])
            sa.in_proj_bias.copy_(w["blocks.0.attn.qkv.bias"])
            sa.out_proj.weight.copy_(w["blocks.0.attn.proj.weight"])
            sa.out_proj.bias.copy_(w["blocks.0.attn.proj.bias"])
            for ours, theirs in (("norm1", layer.norm1), ("norm2", layer.norm2)):
                theirs.weight.copy_(w[f"blocks.0.{ours}.weight"])
                theirs.bias.copy_(w[f"blocks.0.{ours}.bias"])
            layer.linear1.weight.copy_(w["blocks.0.mlp.fc1.weight"])
            layer.linear1.bias.copy_(w["blocks.0.mlp.fc1.bias"])
            layer.linear2.weight.copy_(w["blocks.0.mlp.fc2.weight"])
            layer.linear2.bias.copy_(w["blocks.0.mlp.fc2.bias"])
            x = torch.randn(2, 9, 24, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
            np.testing.assert_allclose(ref.block(x, 0, None).numpy(), layer(x).numpy(), atol=1e-10)

    def test_gelu_block(self):
        self.check("gelu", "gelu")

    def test_quick_gelu_block(self):
        self.check("quick_gelu", lambda x: x * torch.sigmoid(1.702 * x))


class Mor(unittest.TestCase):
    def setUp(self):
        self.cfg = fill_model({"backbone": {"embed_dim": 32, "depth": 2, "num_heads": 2, "pos_grid": [3, 3]},
                               "modalities": [{"name": "A", "size": [42, 42]}], "classes": ["x", "y"],
                               "fusion": "unimodal", "mor": {"targets": parity_test.ALL6}})
        self.bbw = random_backbone_weights(self.cfg["backbone"], 4)
        self.x = torch.randn(2, 3, 42, 56, dtype=torch.float64, generator=torch.Generator().manual_seed(2))

    def mor(self, live, bypass=True):
        cfg = dict(self.cfg, mor=dict(self.cfg["mor"], bypass=bypass))
        w = random_eimodel_weights(cfg, 9, live=live)
        m = cfg["mor"]
        return MorSet({k: v.double() for k, v in w.items()}, "mor.uni.0", 2, m["targets"], m["ranks"],
                      m["alphas"], m["bypass"])

    def test_identity_at_init(self):
        bb = Backbone(self.cfg["backbone"], self.bbw)
        plain, _, _ = bb.forward(self.x)
        adapted, _, _ = bb.forward(self.x, self.mor(live=False))
        self.assertTrue(torch.allclose(plain, adapted, atol=0, rtol=0))
        live, _, _ = bb.forward(self.x, self.mor(live=True))
        self.assertGreater(float((live - plain).abs().max()), 1e-3)

    def test_rank14_product_form(self):
        for bypass in (True, False):
            mor = self.mor(live=True, bypass=bypass)
            rw, rb, As, Bs = mor.layers[(1, "fc1")]
            h = torch.randn(5, 32, dtype=torch.float64)
            w = torch.softmax(h @ rw.t() + rb, -1)
            self.assertEqual(w.shape[-1], 4 if bypass else 3)
            w = w[:, 1:] if bypass else w
            scale = torch.cat([w[:, k:k + 1].expand(-1, r) * (a / r)
                               for k, (r, a) in enumerate(zip(mor.ranks, mor.alphas))], dim=1)
            fused = ((h @ torch.cat(As).t()) * scale) @ torch.cat(Bs, dim=1).t()
            np.testing.assert_allclose(mor.delta(1, "fc1", h).numpy(), fused.numpy(), atol=1e-12)


class EveryCaseThroughTheReference(unittest.TestCase):
    def test_cases(self):
        for name, case in parity_test.CASES.items():
            if case["kind"] != "infer":
                continue
            with self.subTest(case=name), tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "m.eimodel")
                cfg = write_eimodel(path, case["config"], 3)
                rng = np.random.default_rng(0)
                inputs = {}
                for m in cfg["modalities"]:
                    s = m["slices"] if m["kind"] == "volume" else 1
                    inputs[m["name"]] = torch.from_numpy(rng.standard_normal((s, 3) + tuple(m["size"])))
                model = EiModel(path)
                out = model.forward(inputs)
                gate = out["gate"].numpy()
                self.assertAlmostEqual(float(gate.sum()), 1.0, places=9)
                self.assertTrue(np.all(np.isfinite(out["fused"]["logits"].numpy())))
                for mod in out["modalities"]:
                    p = mod["probs"].numpy()
                    if not cfg["multilabel"]:
                        self.assertAlmostEqual(float(p.sum()), 1.0, places=9)
                    self.assertTrue(np.all((p > 0) & (p < 1)))
                for stem, arr in out["maps"].items():
                    bound = 2.0 if stem.endswith("_delta") else 1.0
                    self.assertTrue(np.all(np.abs(arr) <= bound + 1e-9), stem)
                    self.assertGreater(float(np.std(arr)), 1e-4, f"{stem} is flat")
                fusion = cfg["fusion"]
                for i, m in enumerate(cfg["modalities"]):
                    grid = model.backbone.grid_of(*m["size"])
                    shape = ((m["slices"],) if m["kind"] == "volume" else ()) + grid
                    self.assertEqual(out["maps"][m["name"] + "_cls"].shape, shape)
                    if fusion == "ei":
                        mp = out["maps"]
                        np.testing.assert_allclose(mp[m["name"] + "_delta"],
                                                   mp[m["name"] + "_cls"] - mp[m["name"] + "_cls_noint"])
                        self.assertGreater(float(np.abs(mp[m["name"] + "_delta"]).max()), 1e-4)
                        self.assertEqual(len([k for k in mp if k.startswith(m["name"] + "_int_")]), len(cfg["modalities"]) - 1)
                if fusion == "unimodal":
                    self.assertTrue(torch.equal(out["fused"]["logits"], out["modalities"][0]["logits"]))

    def test_unimodal_volume_takes_max_of_slice_logits(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "m.eimodel")
            cfg = write_eimodel(path, parity_test.CASES["unimodal_volume"]["config"], 5)
            x = torch.randn(4, 3, 42, 42, dtype=torch.float64)
            model = EiModel(path)
            logits = model.forward({"MRI": x})["fused"]["logits"]
            per = torch.stack([model.forward({"MRI": x[s:s + 1].expand(4, -1, -1, -1)})["fused"]["logits"]
                               for s in range(4)])
            np.testing.assert_allclose(logits.numpy(), per.max(0).values.numpy(), atol=1e-12)
            self.assertTrue(cfg["multilabel"])


if __name__ == "__main__":
    unittest.main()
