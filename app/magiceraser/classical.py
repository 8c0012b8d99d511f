"""Non-neural fallback in numpy, used when no LaMa model is installed: harmonic colours, copied texture.

A harmonic fill alone is smooth and looks blurred on grass, gravel or fabric, so the hole is also
filled exemplar-style: coarse to fine, each hole pixel copies the known pixel whose surrounding
patch best matches its own (patchmatch). The copy is then shifted by the low-frequency difference
to the harmonic fill, which carries the border colours in. The harmonic fill itself is solved coarse
to fine: the coarse level (2x2 means of the known pixels) seeds the finer one, where a few Jacobi
sweeps of the Laplace equation smooth it against the hole's border. Everything works in a window
around each group of mask pixels; windows too small for a patch get the harmonic fill only.
"""

from __future__ import annotations

from dataclasses import replace
from importlib.metadata import PackageNotFoundError, version

import numpy as np

from . import patchmatch, strategy
from .contract import check_inputs
from .errors import INSTALL_HINT
from .strategy import InpaintOptions

SWEEPS = 24
WINDOW_MARGIN = 48  # texture sources for the patch search come from this ring around the hole
COARSE_SPAN = 48
PASSES = 3
TINT_RADIUS = 16


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


def _halve(image: np.ndarray, hole: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Half size for patch search: a block with any hole pixel is a hole, so coarse sources stay fully known."""
    small, _ = _downsample(image, hole)
    h, w = hole.shape
    return small, _block_sums(np.pad(hole, ((0, h % 2), (0, w % 2)))) > 0


def _pyramid(image: np.ndarray, hole: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Fine to coarse, halving until the hole is small enough for a few jumps to cross it."""
    levels = [(image, hole)]
    rows, cols = np.nonzero(hole.any(axis=1))[0], np.nonzero(hole.any(axis=0))[0]
    span = max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1
    while span > COARSE_SPAN and min(levels[-1][1].shape) >= 4 * (2 * patchmatch.RADIUS + 1):
        levels.append(_halve(*levels[-1]))
        span //= 2
    return levels


def _upsample_field(field: patchmatch.Field, hole: np.ndarray) -> np.ndarray:
    """Guess for the finer level: each fine hole pixel takes its coarse parent's source, doubled."""
    grid = np.zeros((*field.hole.shape, 2), np.int64)
    grid[field.ys, field.xs] = field.best
    ys, xs = np.nonzero(hole)
    return 2 * grid[ys // 2, xs // 2] + np.stack([ys % 2, xs % 2], axis=1)


def exemplar_fill(image: np.ndarray, hole: np.ndarray) -> np.ndarray | None:
    """Hole filled by copying, coarse to fine, the known pixel whose patch best matches; None without sources."""
    rng = np.random.default_rng(0)
    field: patchmatch.Field | None = None
    for level_image, level_hole in reversed(_pyramid(image, hole)):
        valid = patchmatch.source_centres(level_hole)
        if not valid.any():
            field = None
            continue
        guess = None if field is None else _upsample_field(field, level_hole)
        field = patchmatch.Field(level_image, level_hole, valid, rng, guess)
        for _ in range(PASSES):
            field.improve(field.copied(level_image))
    return None if field is None else field.copied(image)


def textured_fill(image: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """Harmonic colours plus copied texture: the exemplar fill, shifted by the low-frequency
    difference to the harmonic fill so that a darker or lighter source cannot tint the hole.
    The shift stays within the colour range of the known pixels, so a dark speck copied next
    to a highlight cannot turn into a colour found nowhere around the hole (e.g. pure black)."""
    base = harmonic_fill(image, hole)
    copied = exemplar_fill(image, hole) if hole.any() else None
    if copied is None:
        return base
    known = image[~hole]
    return np.clip(copied + patchmatch.box_blur(base - copied, TINT_RADIUS), known.min(axis=0), known.max(axis=0))


def fill_window(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """strategy.InpaintFn: one window in, filled window out (uint8)."""
    filled = textured_fill(rgb.astype(np.float32), mask)
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
