#!/usr/bin/env python3
"""Makes the bundled sample study: a synthetic fundus-like colour photo (CFP) and an
OCT-like B-scan, drawn from simple shapes and seeded noise. No patient data is
involved; the pictures only need to look like their modality so that the demo and the
screenshots read naturally. Needs numpy; writes PNG with the standard library.

    /usr/bin/python3 resources/demo/make-sample-study.py resources/demo/study
"""
import struct
import sys
import zlib
from pathlib import Path

import numpy as np


def write_png(path, pixels):
    """pixels: uint8 [H, W] (grey) or [H, W, 3] (RGB)."""
    h, w = pixels.shape[:2]
    colour = 2 if pixels.ndim == 3 else 0
    raw = b"".join(b"\x00" + pixels[y].tobytes() for y in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, colour, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    Path(path).write_bytes(png)


def smooth_noise(rng, h, w, scale):
    """Low-frequency noise: coarse random grid, bilinear upsampled."""
    gh, gw = h // scale + 2, w // scale + 2
    g = rng.standard_normal((gh, gw))
    y = np.linspace(0, gh - 2, h)
    x = np.linspace(0, gw - 2, w)
    y0, x0 = np.floor(y).astype(int), np.floor(x).astype(int)
    fy, fx = (y - y0)[:, None], (x - x0)[None, :]
    a = g[y0][:, x0]
    b = g[y0][:, x0 + 1]
    c = g[y0 + 1][:, x0]
    d = g[y0 + 1][:, x0 + 1]
    return (a * (1 - fx) + b * fx) * (1 - fy) + (c * (1 - fx) + d * fx) * fy


def fundus(rng, size=448):
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    cx = cy = size / 2
    r = np.hypot(xx - cx, yy - cy) / (size * 0.47)
    inside = r < 1.0
    # orange-red background, darker towards the rim (vignetting)
    base = np.clip(1.0 - 0.55 * r**2, 0, 1) * (1 + 0.06 * smooth_noise(rng, size, size, 24))
    img = np.stack([0.86 * base, 0.38 * base, 0.16 * base], axis=-1)
    # macula: darker spot, fovea at the centre-right
    mx, my = cx + 0.05 * size, cy + 0.02 * size
    mac = np.exp(-(((xx - mx) ** 2 + (yy - my) ** 2) / (2 * (0.07 * size) ** 2)))
    img *= (1 - 0.35 * mac)[..., None]
    # optic disc: bright yellow, left of the macula (a right eye)
    dx, dy = cx - 0.27 * size, cy - 0.03 * size
    disc = np.exp(-(((xx - dx) ** 2 + (yy - dy) ** 2) / (2 * (0.045 * size) ** 2)))
    img += disc[..., None] * np.array([0.35, 0.45, 0.25])
    # vessels: arcades leaving the disc, thinner further out
    vessels = np.zeros((size, size))
    for sign in (-1, 1):
        for k, (spread, width) in enumerate(((0.35, 3.2), (0.22, 2.4), (0.5, 2.0))):
            t = np.linspace(0, 1, 900)
            px = dx + t * 0.75 * size
            py = dy + sign * (spread * size * np.sin(np.pi * t * 0.9) + 6 * k * t)
            for x_, y_ in zip(px, py):
                ix, iy = int(x_), int(y_)
                w = width * (1.1 - 0.6 * (x_ - dx) / size)
                x0, x1 = max(ix - 5, 0), min(ix + 6, size)
                y0, y1 = max(iy - 5, 0), min(iy + 6, size)
                if x0 >= x1 or y0 >= y1:
                    continue
                d2 = (xx[y0:y1, x0:x1] - x_) ** 2 + (yy[y0:y1, x0:x1] - y_) ** 2
                vessels[y0:y1, x0:x1] = np.maximum(vessels[y0:y1, x0:x1], np.exp(-d2 / (2 * w**2)))
    img *= (1 - 0.45 * vessels)[..., None]
    img[..., 0] -= 0.08 * vessels
    # a few drusen near the macula (the demo's "finding")
    for _ in range(14):
        ox, oy = rng.normal(mx, 0.05 * size), rng.normal(my, 0.04 * size)
        rad = rng.uniform(2.0, 4.5)
        spot = np.exp(-(((xx - ox) ** 2 + (yy - oy) ** 2) / (2 * rad**2)))
        img += spot[..., None] * np.array([0.25, 0.22, 0.05])
    img += rng.normal(0, 0.012, img.shape)
    img[~inside] = 0.02
    return (np.clip(img, 0, 1) * 255).round().astype(np.uint8)


def oct_scan(rng, h=320, w=448):
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    centre = w * 0.52
    # inner retina surface with the foveal pit; RPE line below it, with a small bump (drusen)
    surface = 0.30 * h + 0.07 * h * np.exp(-((xx[0] - centre) ** 2) / (2 * (0.06 * w) ** 2))
    rpe = 0.62 * h - 0.035 * h * np.exp(-((xx[0] - centre - 0.1 * w) ** 2) / (2 * (0.03 * w) ** 2))
    img = np.full((h, w), 0.05)
    depth = (yy - surface[None, :]) / (rpe - surface)[None, :]
    retina = (depth >= 0) & (depth <= 1)
    # layers: bright nerve fibre layer, grey plexiform layers, dark nuclear layers
    layer = 0.35 + 0.35 * np.exp(-(depth / 0.07) ** 2) + 0.12 * np.cos(depth * 3 * np.pi) ** 2
    img[retina] = layer[retina]
    rpe_band = np.exp(-((yy - rpe[None, :]) / 4.0) ** 2)
    img += 0.75 * rpe_band
    choroid = (yy > rpe[None, :]) & (yy < rpe[None, :] + 0.12 * h)
    img[choroid] += 0.25 * (1 + 0.5 * smooth_noise(rng, h, w, 8))[choroid]
    # multiplicative speckle, as OCT has
    img *= rng.gamma(4.0, 0.25, img.shape)
    img = np.clip(img, 0, 1)
    return (img**0.8 * 255).round().astype(np.uint8)


def main():
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "study")
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20260317)
    write_png(out / "CFP_sample.png", fundus(rng))
    write_png(out / "OCT_sample.png", oct_scan(rng))


if __name__ == "__main__":
    main()
