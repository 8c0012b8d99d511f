"""Colour consistency with the hole's border, without touching the structure that crosses it.

Copied patches can be a little darker, lighter or differently tinted than the pixels they meet.
Along the border, the mean of the known pixels nearby is compared with the mean of the filled
pixels nearby; that difference is carried into the hole as a membrane (harmonic interpolation),
so the fill meets every part of its border in colour. An edge that is continued through the hole
is on both sides of that comparison, so it adds no halo. The shift never leaves the colour range of
the known pixels around the hole, so a dark copied speck cannot become a colour found nowhere there."""

from __future__ import annotations

import numpy as np

from .harmonic import harmonic_fill
from .patchmatch import box_blur

RADIUS = 4  # the means compared along the border are over 9x9 pixels


def _local_mean(image: np.ndarray, where: np.ndarray) -> np.ndarray:
    weight = where.astype(np.float32)
    total = box_blur(image * weight[..., None], RADIUS)
    return total / np.maximum(box_blur(weight, RADIUS), 1e-6)[..., None]


def match_border(filled: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """``filled`` with its hole shifted smoothly so its colours meet the known border."""
    if hole.all():
        return filled
    rows, cols = np.nonzero(hole.any(axis=1))[0], np.nonzero(hole.any(axis=0))[0]
    margin = 2 * RADIUS + 1
    box = np.s_[max(rows[0] - margin, 0):rows[-1] + margin + 1, max(cols[0] - margin, 0):cols[-1] + margin + 1]
    part, inside = filled[box], hole[box]
    ring = ~inside & (box_blur(inside.astype(np.float32), RADIUS) > 0)
    difference = np.zeros_like(part)
    difference[ring] = (_local_mean(part, ~inside) - _local_mean(part, inside))[ring]
    known = part[~inside]
    shifted = part[inside] + harmonic_fill(difference, inside)[inside]
    out = filled.copy()
    out[box][inside] = np.clip(shifted, known.min(axis=0), known.max(axis=0))
    return out
