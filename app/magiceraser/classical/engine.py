"""Non-neural fallback in numpy, used when no LaMa model is installed: exemplar completion.

Each group of mask pixels is filled in a window around it (strategy "crop" with WINDOW_MARGIN of
context) by patch-based completion (completion: coarse structure first, then PatchMatch search and
voting at every finer level), then shifted smoothly to meet the colours of its border (seam).
Windows with no fully known patch at all get the smooth harmonic fill (harmonic) instead.
"""

from __future__ import annotations

from dataclasses import replace
from importlib.metadata import PackageNotFoundError, version

import numpy as np

from .. import strategy
from ..contract import check_inputs
from ..errors import INSTALL_HINT
from ..strategy import InpaintOptions
from .completion import exemplar_fill
from .harmonic import harmonic_fill
from .seam import match_border

WINDOW_MARGIN = 48  # sources come from this ring around the hole: near enough to belong to the same surface
MARGIN_SHARE = 4  # a large hole gets a quarter of its size as context, so its coarsest level keeps whole patches


def _margin(mask: np.ndarray) -> int:
    """Context around each group of mask pixels: WINDOW_MARGIN, more for a hole too large for it."""
    groups = strategy.mask_groups(mask)
    largest = max((max(box.height, box.width) for box in groups), default=0)
    return max(WINDOW_MARGIN, largest // MARGIN_SHARE)


def fill(image: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """The exemplar completion, or the harmonic fill where the window holds no fully known patch."""
    completed = exemplar_fill(image, hole) if hole.any() else None
    return harmonic_fill(image, hole) if completed is None else match_border(completed, hole)


def fill_window(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """strategy.InpaintFn: one window in, filled window out (uint8)."""
    filled = fill(rgb.astype(np.float32), mask)
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
                               crop_margin=_margin(mask))
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
