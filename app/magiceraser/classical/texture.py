"""Texture channels for patch matching: local gradient energy, measured once at full resolution.

Voting averages copies, so the estimate of a textured hole is blurrier than its surroundings and
by colour alone it would match flat sources - the fill would grow smoother each iteration. Like
Newson et al., the energy of the brightness gradient is added as extra channels that are copied and
voted along with the colours, so the hole keeps "asking" for texture where its border has it."""

from __future__ import annotations

import numpy as np

from .patchmatch import box_blur

RADIUS = 2  # the energy is a mean over 5x5 pixels
WEIGHT = 1.0  # gradient energy against colour in the patch distance


def _energy(gray: np.ndarray, known: np.ndarray, axis: int) -> np.ndarray:
    """Mean |difference| along ``axis`` over the pixel pairs of the 5x5 square that are both known."""
    diff = np.abs(np.diff(gray, axis=axis))
    pair = np.diff(known.astype(np.int8), axis=axis) == 0
    pair &= np.delete(known, -1, axis=axis)
    pad = [(0, 1) if a == axis else (0, 0) for a in range(2)]
    sums = box_blur(np.pad(np.where(pair, diff, 0), pad), RADIUS)
    counts = box_blur(np.pad(pair.astype(np.float32), pad), RADIUS)
    return np.where(counts > 0, sums / np.maximum(counts, 1e-6), 0)


def with_texture(image: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """(h, w, c + 2): ``image`` plus the weighted gradient energy across rows and across columns."""
    gray = image.mean(axis=2)
    known = ~hole
    energy = np.stack([_energy(gray, known, 0), _energy(gray, known, 1)], axis=2)
    return np.concatenate([image, WEIGHT * energy.astype(np.float32)], axis=2)
