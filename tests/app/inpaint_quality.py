"""Scoring an eraser on real photos whose true content is known: cut a hole, fill it, compare.

Shared by tests/app/test_classical.py and tests/app/bench_classical.py. OpenCV is only a
reference here (a test extra), never something the app imports."""

from __future__ import annotations

from typing import Callable, Iterator

import numpy as np
from PIL import Image
from skimage import data

# (rgb (h,w,3) uint8 with the hole blacked out, mask (h,w) bool) -> (h,w,3) uint8
Fill = Callable[[np.ndarray, np.ndarray], np.ndarray]
PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "motorcycle", "hubble_deep_field", "immunohistochemistry",
          "retina", "brick", "grass", "gravel", "camera", "coins", "moon")
LONG_SIDE = 640


def photo(name: str) -> np.ndarray:
    """A scikit-image photo as RGB uint8, at most LONG_SIDE px long (gray photos repeated to RGB)."""
    image = data.stereo_motorcycle()[0] if name == "motorcycle" else getattr(data, name)()
    im = Image.fromarray(image).convert("RGB")
    scale = LONG_SIDE / max(im.size)
    if scale < 1:
        im = im.resize((round(im.width * scale), round(im.height * scale)), Image.Resampling.LANCZOS)
    return np.asarray(im)


def ellipse(shape: tuple[int, int], centre: tuple[float, float], axes: tuple[float, float],
            angle: float = 0.0) -> np.ndarray:
    """Boolean ellipse; centre and axes as (x, y), angle in radians."""
    yy, xx = np.mgrid[:shape[0], :shape[1]].astype(np.float64)
    dx, dy = xx - centre[0], yy - centre[1]
    u = dx * np.cos(angle) + dy * np.sin(angle)
    v = -dx * np.sin(angle) + dy * np.cos(angle)
    return (u / axes[0]) ** 2 + (v / axes[1]) ** 2 <= 1


def object_holes(shape: tuple[int, int], count: int, seed: int) -> Iterator[np.ndarray]:
    """``count`` object-sized ellipses (axes 15-45 px, any angle) at seeded random positions."""
    rng = np.random.default_rng(seed)
    for _ in range(count):
        axes = rng.uniform(15, 45, 2)
        margin = axes.max() + 8
        centre = (rng.uniform(margin, shape[1] - margin), rng.uniform(margin, shape[0] - margin))
        yield ellipse(shape, centre, (axes[0], axes[1]), rng.uniform(0, np.pi))


def psnr_in_hole(filled: np.ndarray, truth: np.ndarray, hole: np.ndarray) -> float:
    mse = np.mean((filled[hole].astype(np.float64) - truth[hole].astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0 ** 2 / max(mse, 1e-10)))


def _gradient_magnitude(rgb: np.ndarray) -> np.ndarray:
    gray = rgb.astype(np.float64).mean(axis=2)
    gy, gx = np.gradient(gray)
    return np.hypot(gx, gy)


def _dilate(mask: np.ndarray, steps: int) -> np.ndarray:
    grown = mask.copy()
    for _ in range(steps):
        padded = np.pad(grown, 1)
        grown = padded[1:-1, 1:-1] | padded[:-2, 1:-1] | padded[2:, 1:-1] | padded[1:-1, :-2] | padded[1:-1, 2:]
    return grown


def texture_ratio(filled: np.ndarray, hole: np.ndarray, ring: int = 12) -> float:
    """Mean gradient magnitude inside the hole over that of the known ring around it (diffusion ~0.3).

    The hole's outermost pixel and the ring's innermost one are left out, so the step between fill
    and border counts for neither side."""
    magnitude = _gradient_magnitude(filled)
    inside = hole & ~_dilate(~hole, 1)
    around = _dilate(hole, ring) & ~_dilate(hole, 1)
    return float(magnitude[inside].mean() / max(magnitude[around].mean(), 1e-9))


def opencv_fill(method: str) -> Fill:
    """OpenCV's Telea ("telea") or Navier-Stokes ("ns") inpainting, radius 3, as a reference."""
    import cv2

    flag = {"telea": cv2.INPAINT_TELEA, "ns": cv2.INPAINT_NS}[method]

    def fill(rgb: np.ndarray, hole: np.ndarray) -> np.ndarray:
        return cv2.inpaint(np.ascontiguousarray(rgb), hole.astype(np.uint8) * 255, 3, flag)

    return fill


def holed(rgb: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """The photo with the hole blacked out, so nothing of the truth can leak into a fill."""
    out = rgb.copy()
    out[hole] = 0
    return out


def score(fill: Fill, rgb: np.ndarray, hole: np.ndarray) -> tuple[float, float, np.ndarray]:
    """(PSNR in the hole, texture ratio, filled image) for one fill of one hole."""
    filled = fill(holed(rgb, hole), hole)
    return psnr_in_hole(filled, rgb, hole), texture_ratio(filled, hole), filled
