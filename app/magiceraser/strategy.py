"""How a large photo is cut before inference (numpy + Pillow only, no torch).

"crop": above ``crop_trigger`` the model only sees a window around each group of mask pixels plus
``crop_margin`` of context. Windows that overlap or touch are merged, so no window edge cuts
through a hole another window fills; at the image border a window is shifted inward, never
shrunk. A window still longer than ``resize_limit`` is downscaled, inpainted and upscaled.
"resize": the whole image is downscaled to ``resize_limit``. "original": full resolution.
In every case only masked pixels are written back: the rest stays bit-identical to the input.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Callable, Mapping

import numpy as np
from PIL import Image

STRATEGIES = ("crop", "resize", "original")
# (rgb (h,w,3) uint8, mask (h,w) bool) -> (h,w,3) uint8
InpaintFn = Callable[[np.ndarray, np.ndarray], np.ndarray]
_CELL = 16  # mask pixels closer than this always share a window (margins are larger anyway)
_RANGES = {"crop_trigger": (0, 1 << 16), "crop_margin": (0, 4096), "resize_limit": (64, 1 << 16)}


@dataclass(frozen=True)
class InpaintOptions:
    """Per-request HD strategy (defaults measured, see docs/benchmarks.md "Eraser engine").

    strategy: "crop" | "resize" | "original".
    crop_trigger: long side (px) above which "crop" works in windows; at or below it the whole image runs.
    crop_margin: context (px) kept around each group of mask pixels.
    resize_limit: long side (px) a window ("crop") or the image ("resize") is downscaled to first."""

    strategy: str = "crop"
    crop_trigger: int = 800
    crop_margin: int = 128
    resize_limit: int = 1024

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}, not {self.strategy!r}")
        for name, (low, high) in _RANGES.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValueError(f"{name} must be an integer between {low} and {high}, not {value!r}")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> "InpaintOptions":
        """Parse request fields (strings from forms are accepted); missing/None/"" keep the default.

        Raises ValueError naming the field and the allowed values."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown option(s) {', '.join(unknown)}; allowed: {', '.join(sorted(known))}")
        values: dict[str, Any] = {}
        for name, raw in data.items():
            if raw is None or raw == "":
                continue
            if name == "strategy":
                if not isinstance(raw, str):
                    raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}, not {raw!r}")
                values[name] = raw.strip().lower()
            else:
                values[name] = _parse_int(name, raw)
        return cls(**values)


def _parse_int(name: str, raw: Any) -> int:
    if isinstance(raw, bool):
        raise ValueError(f"{name} must be an integer, not {raw!r}")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if isinstance(raw, str):
        try:
            return int(raw.strip())
        except ValueError:
            pass
    raise ValueError(f"{name} must be an integer, not {raw!r}")


@dataclass(frozen=True)
class Window:
    """Half-open pixel rectangle [top, bottom) x [left, right)."""

    top: int
    left: int
    bottom: int
    right: int

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def slices(self) -> tuple[slice, slice]:
        return slice(self.top, self.bottom), slice(self.left, self.right)

    def touches(self, other: "Window") -> bool:
        """Overlap or share an edge/corner."""
        return (self.top <= other.bottom and other.top <= self.bottom
                and self.left <= other.right and other.left <= self.right)

    def union(self, other: "Window") -> "Window":
        return Window(min(self.top, other.top), min(self.left, other.left),
                      max(self.bottom, other.bottom), max(self.right, other.right))


def _label_cells(cells: np.ndarray) -> np.ndarray:
    """8-connected component labels of a small boolean grid (0 = background), by min-label propagation."""
    h, w = cells.shape
    big = h * w + 1
    labels = np.where(cells, np.arange(1, h * w + 1).reshape(h, w), big)
    while True:
        padded = np.pad(labels, 1, constant_values=big)
        neighbours = np.min([padded[dy:dy + h, dx:dx + w] for dy in range(3) for dx in range(3)], axis=0)
        updated = np.where(cells, neighbours, big)
        if np.array_equal(updated, labels):
            return np.where(cells, labels, 0)
        labels = updated


def mask_groups(mask: np.ndarray, cell: int = _CELL) -> list[Window]:
    """Tight boxes around groups of mask pixels (pixels within ``cell`` px of each other share a group)."""
    h, w = mask.shape
    gh, gw = -(-h // cell), -(-w // cell)
    padded = np.zeros((gh * cell, gw * cell), bool)
    padded[:h, :w] = mask
    cells = padded.reshape(gh, cell, gw, cell).any(axis=(1, 3))
    labels = _label_cells(cells)
    boxes = []
    for label in np.unique(labels[labels > 0]):
        ys, xs = np.nonzero(labels == label)
        region = mask[ys.min() * cell:(ys.max() + 1) * cell, xs.min() * cell:(xs.max() + 1) * cell]
        rows, cols = np.nonzero(region.any(axis=1))[0], np.nonzero(region.any(axis=0))[0]
        top, left = int(ys.min()) * cell, int(xs.min()) * cell
        boxes.append(Window(top + int(rows[0]), left + int(cols[0]), top + int(rows[-1]) + 1, left + int(cols[-1]) + 1))
    return boxes


def _fit(start: int, stop: int, limit: int) -> tuple[int, int]:
    """Shift [start, stop) inside [0, limit) keeping its length (clamped if longer than the image)."""
    if stop - start >= limit:
        return 0, limit
    shift = max(0, -start) - max(0, stop - limit)
    return start + shift, stop + shift


def context_window(box: Window, margin: int, shape: tuple[int, int]) -> Window:
    """box grown by ``margin`` on every side, shifted (not shrunk) to lie inside the image."""
    top, bottom = _fit(box.top - margin, box.bottom + margin, shape[0])
    left, right = _fit(box.left - margin, box.right + margin, shape[1])
    return Window(top, left, bottom, right)


def plan_windows(mask: np.ndarray, margin: int) -> list[Window]:
    """Context windows for every mask group, merged until no two overlap or touch."""
    windows = [context_window(box, margin, mask.shape) for box in mask_groups(mask)]
    merged = True
    while merged:
        merged = False
        for i in range(len(windows)):
            for j in range(i + 1, len(windows)):
                if windows[i].touches(windows[j]):
                    windows[i] = windows[i].union(windows.pop(j))
                    merged = True
                    break
            if merged:
                break
    return sorted(windows, key=lambda win: (win.top, win.left))


def _resize_rgb(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.BICUBIC))


def inpaint_limited(inpaint: InpaintFn, rgb: np.ndarray, mask: np.ndarray, limit: int) -> np.ndarray:
    """inpaint() at most ``limit`` px on the long side: downscale, inpaint, upscale the result."""
    h, w = mask.shape
    if max(h, w) <= limit:
        return inpaint(rgb, mask)
    scale = limit / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small_mask = np.asarray(Image.fromarray(mask.astype(np.uint8) * 255).resize(size, Image.Resampling.BILINEAR)) > 0
    small = inpaint(_resize_rgb(rgb, size), small_mask)
    return _resize_rgb(small, (w, h))


def run(inpaint: InpaintFn, rgb: np.ndarray, mask: np.ndarray, options: InpaintOptions) -> np.ndarray:
    """Apply the HD strategy around ``inpaint``; only pixels under ``mask`` differ from ``rgb``."""
    result = rgb.copy()
    if not mask.any():
        return result
    if options.strategy == "crop" and max(mask.shape) > options.crop_trigger:
        windows = plan_windows(mask, options.crop_margin)
    else:
        windows = [Window(0, 0, *mask.shape)]
    limit = options.resize_limit if options.strategy != "original" else max(mask.shape)
    for window in windows:
        area = window.slices
        filled = inpaint_limited(inpaint, rgb[area], mask[area], limit)
        result[area][mask[area]] = filled[mask[area]]
    return result
