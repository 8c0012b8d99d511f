"""Smooth fill: the Laplace equation solved in the hole with the known pixels as its border.

Solved coarse to fine: the coarse level (2x2 means of the known pixels) seeds the finer one, where
a few Jacobi sweeps smooth it against the hole's border. It is the classical engine's fill where no
patch fits, and the membrane that carries colour corrections in from the border (seam)."""

from __future__ import annotations

import numpy as np

from . import pyramid

SWEEPS = 24


def _sweep(image: np.ndarray, hole: np.ndarray, count: int) -> None:
    """Jacobi iterations of the Laplace equation on hole pixels only (borders replicated)."""
    ys, xs = np.nonzero(hole)
    h, w = hole.shape
    up, down = np.maximum(ys - 1, 0), np.minimum(ys + 1, h - 1)
    left, right = np.maximum(xs - 1, 0), np.minimum(xs + 1, w - 1)
    for _ in range(count):
        image[ys, xs] = 0.25 * (image[up, xs] + image[down, xs] + image[ys, left] + image[ys, right])


def harmonic_fill(image: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """(h,w,3) float32 with ``hole`` unknown -> filled copy; known pixels unchanged."""
    image = image.copy()
    if not hole.any():
        return image
    h, w = hole.shape
    if hole.all() or min(h, w) < 4:
        image[hole] = image[~hole].mean(axis=0) if (~hole).any() else 0.5
    else:
        coarse = harmonic_fill(*pyramid.downsample(image, hole))
        seed = coarse.repeat(2, axis=0).repeat(2, axis=1)[:h, :w]
        image[hole] = seed[hole]
    _sweep(image, hole, SWEEPS)
    return image
