"""Non-neural fallback: multi-scale harmonic fill in numpy, used when no LaMa model is installed.

Each hole is solved coarse to fine: the coarse level (2x2 means of the known pixels) seeds the
finer one, where a few Jacobi sweeps of the Laplace equation smooth it against the hole's border.
The fill carries the surrounding colours in smoothly - no hole, no smear beyond the mask - and it
only ever works in a small window around each group of mask pixels.
"""

from __future__ import annotations

from dataclasses import replace
from importlib.metadata import PackageNotFoundError, version

import numpy as np

from . import strategy
from .engine import check_inputs
from .lama.errors import INSTALL_HINT
from .strategy import InpaintOptions

SWEEPS = 24
WINDOW_MARGIN = 8


def _block_sums(a: np.ndarray) -> np.ndarray:
    return a.reshape(a.shape[0] // 2, 2, a.shape[1] // 2, 2, *a.shape[2:]).sum(axis=(1, 3))


def _downsample(image: np.ndarray, hole: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Half size: mean of the known pixels of each 2x2 block; a block with none is a hole."""
    h, w = hole.shape
    pad = ((0, h % 2), (0, w % 2))
    known = np.pad(~hole, pad).astype(np.float32)
    values = np.pad(image, pad + ((0, 0),)) * known[..., None]
    weight = _block_sums(known)
    small = _block_sums(values) / np.maximum(weight, 1)[..., None]
    return small.astype(np.float32), weight == 0


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
        coarse = harmonic_fill(*_downsample(image, hole))
        seed = coarse.repeat(2, axis=0).repeat(2, axis=1)[:h, :w]
        image[hole] = seed[hole]
    _sweep(image, hole, SWEEPS)
    return image


def fill_window(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """strategy.InpaintFn: one window in, filled window out (uint8)."""
    filled = harmonic_fill(rgb.astype(np.float32), mask)
    return np.clip(np.rint(filled), 0, 255).astype(np.uint8)


class ClassicalEngine:
    """Engine protocol implementation that needs no model file (and no torch)."""

    name = "classical"

    def __init__(self, missing_hint: str = f"LaMa model not found; {INSTALL_HINT}") -> None:
        self.missing_hint = missing_hint

    def inpaint(self, rgb: np.ndarray, mask: np.ndarray, options: InpaintOptions | None = None) -> np.ndarray:
        """rgb (H,W,3) uint8, mask (H,W) bool -> (H,W,3) uint8; unmasked pixels are bit-identical."""
        mask = check_inputs(rgb, mask)
        windows_only = replace(options or InpaintOptions(), strategy="crop", crop_trigger=0,
                               crop_margin=WINDOW_MARGIN, resize_limit=1 << 16)
        return strategy.run(fill_window, rgb, mask, windows_only)

    def info(self) -> dict:
        return {"engine": self.name, "model_path": None, "model_digest": None,
                "model_missing_hint": self.missing_hint,
                "torch_version": _torch_version(), "threads": 1, "mkldnn": False, "pixels_per_second": None}


def _torch_version() -> str | None:
    try:
        return version("torch")
    except PackageNotFoundError:
        return None
