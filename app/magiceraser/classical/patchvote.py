"""Hole pixels rebuilt from a nearest-neighbour field: every patch covering a pixel votes for it.

Averaging the overlapping copies (Wexler et al.) is what makes neighbouring copies agree, so the
fill has no pixel-sized patchwork and meets the known border without a seam. Each vote is weighted
by how well its patch matched, so a poor match cannot pull a pixel away from the good ones; a low
``percentile`` sharpens the weights (fewer, better votes: more texture, less averaging)."""

from __future__ import annotations

import numpy as np

from .patchmatch import RADIUS, Field

PERCENTILE = 75  # match costs at this percentile get weight exp(-1/2)


def _weights(cost: np.ndarray, percentile: float) -> np.ndarray:
    finite = cost[np.isfinite(cost)]
    spread = max(float(np.percentile(finite, percentile)) if finite.size else 1.0, 1e-6)
    return np.exp(-0.5 * np.minimum(cost, 50 * spread) / spread).astype(np.float32)


def vote(image: np.ndarray, field: Field, percentile: float = PERCENTILE) -> np.ndarray:
    """``image`` with each hole pixel set to the weighted mean of its covering patches' copies."""
    h, w = field.hole.shape
    source = np.full(h * w, -1, np.int64)
    source[field.ys * w + field.xs] = field.best[:, 0] * w + field.best[:, 1]
    weight = np.zeros(h * w, np.float32)
    weight[field.ys * w + field.xs] = _weights(field.cost, percentile)
    hy, hx = np.nonzero(field.hole)
    pixels = image.reshape(h * w, -1)
    total = np.zeros((hy.size, pixels.shape[1]), np.float32)
    weights = np.zeros(hy.size, np.float32)
    for dy in range(-RADIUS, RADIUS + 1):
        for dx in range(-RADIUS, RADIUS + 1):
            qy, qx = hy - dy, hx - dx
            inside = (qy >= 0) & (qy < h) & (qx >= 0) & (qx < w)
            q = np.where(inside, qy * w + qx, 0)
            vw = np.where(inside, weight[q], 0)
            src = np.where(inside, source[q] + dy * w + dx, 0)
            total += vw[:, None] * pixels[src]
            weights += vw
    out = image.copy()
    out[hy, hx] = total / np.maximum(weights, 1e-12)[:, None]
    return out
