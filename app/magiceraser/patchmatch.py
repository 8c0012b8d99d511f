"""Nearest known patch for every hole pixel (PatchMatch, vectorised in numpy).

Patches are compared through a short descriptor (local means) so that each candidate costs a gather
of a few numbers instead of a whole patch. Sources are restricted to centres whose patch lies entirely in
known pixels of the window, so copied texture never contains hole or out-of-window values.
"""

from __future__ import annotations

import numpy as np

RADIUS = 3  # 7x7 patches: big enough for texture statistics, small enough for narrow borders
JUMPS = (8, 4, 2, 1)
DIRECTIONS = ((0, 1), (0, -1), (1, 0), (-1, 0))


def box_blur(a: np.ndarray, radius: int) -> np.ndarray:
    """Mean over a (2r+1)^2 square via integral images; the square is cut at the array border."""
    h, w = a.shape[:2]
    pad = np.zeros((h + 1, w + 1, *a.shape[2:]), np.float64)
    pad[1:, 1:] = a.cumsum(0).cumsum(1)
    y0, y1 = np.clip(np.arange(h) - radius, 0, h), np.clip(np.arange(h) + radius + 1, 0, h)
    x0, x1 = np.clip(np.arange(w) - radius, 0, w), np.clip(np.arange(w) + radius + 1, 0, w)
    sums = pad[y1][:, x1] - pad[y0][:, x1] - pad[y1][:, x0] + pad[y0][:, x0]
    area = np.outer(y1 - y0, x1 - x0).reshape(h, w, *([1] * (a.ndim - 2)))
    return (sums / area).astype(np.float32)


def source_centres(hole: np.ndarray) -> np.ndarray:
    """Pixels whose whole patch is known and inside the window."""
    size = 2 * RADIUS + 1
    valid = np.zeros_like(hole)
    h, w = hole.shape
    if h < size or w < size:
        return valid
    touched = box_blur(hole.astype(np.float32), RADIUS) > 0
    valid[RADIUS:h - RADIUS, RADIUS:w - RADIUS] = ~touched[RADIUS:h - RADIUS, RADIUS:w - RADIUS]
    return valid


def describe(image: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """(N, 9 * channels): the patch's 3x3 means on a stride-2 grid, coordinates clamped to the window.

    Nine local means describe a 7x7 patch well enough to rank candidates and need no matrix
    product, so no BLAS thread pool is woken (it stalls badly on a busy machine)."""
    h, w = image.shape[:2]
    smooth = box_blur(image, 1)
    steps = range(1 - RADIUS, RADIUS, 2)
    return np.concatenate([smooth[np.clip(ys + dy, 0, h - 1), np.clip(xs + dx, 0, w - 1)]
                           for dy in steps for dx in steps], axis=1)


def source_descriptors(image: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """(h, w, d) descriptors, filled at the source centres only, so candidates are looked up by position."""
    vy, vx = np.nonzero(valid)
    grid = np.zeros((*valid.shape, 9 * image.shape[2]), np.float32)
    grid[valid] = describe(image, vy, vx)
    return grid


class Field:
    """Source coordinates for the hole pixels of one level, improved by propagation and random search."""

    def __init__(self, image: np.ndarray, hole: np.ndarray, valid: np.ndarray, rng: np.random.Generator,
                 guess: np.ndarray | None = None) -> None:
        self.hole, self.valid, self.rng = hole, valid, rng
        self.descriptors = source_descriptors(image, self.valid)
        self.ys, self.xs = np.nonzero(hole)
        self.sources = np.argwhere(valid)
        self.best = self._random(self.ys.size) if guess is None else guess
        bad = ~self._usable(self.best)
        self.best[bad] = self._random(int(bad.sum()))

    def copied(self, image: np.ndarray) -> np.ndarray:
        """``image`` with every hole pixel replaced by its current source pixel."""
        out = image.copy()
        out[self.ys, self.xs] = image[self.best[:, 0], self.best[:, 1]]
        return out

    def _random(self, count: int) -> np.ndarray:
        return self.sources[self.rng.integers(0, len(self.sources), count)]

    def _usable(self, cand: np.ndarray) -> np.ndarray:
        h, w = self.hole.shape
        inside = (cand[:, 0] >= 0) & (cand[:, 0] < h) & (cand[:, 1] >= 0) & (cand[:, 1] < w)
        usable = np.zeros(len(cand), bool)
        usable[inside] = self.valid[cand[inside, 0], cand[inside, 1]]
        return usable

    def _distance(self, target: np.ndarray, cand: np.ndarray) -> np.ndarray:
        usable = self._usable(cand)
        dist = np.full(len(cand), np.inf, np.float32)
        found = self.descriptors[cand[usable, 0], cand[usable, 1]]
        dist[usable] = ((target[usable] - found) ** 2).sum(axis=1)
        return dist

    def _try(self, target: np.ndarray, best_dist: np.ndarray, cand: np.ndarray) -> None:
        dist = self._distance(target, cand)
        better = dist < best_dist
        self.best[better], best_dist[better] = cand[better], dist[better]

    def improve(self, estimate: np.ndarray) -> None:
        """One PatchMatch pass against the current estimate of the hole."""
        target = describe(estimate, self.ys, self.xs)
        best_dist = self._distance(target, self.best)
        h, w = self.hole.shape
        grid = np.zeros((h, w, 2), np.int64)
        for jump in JUMPS:
            grid[self.ys, self.xs] = self.best
            for dy, dx in DIRECTIONS:
                ny, nx = self.ys + jump * dy, self.xs + jump * dx
                inside = (ny >= 0) & (ny < h) & (nx >= 0) & (nx < w)
                ny, nx = np.where(inside, ny, self.ys), np.where(inside, nx, self.xs)
                from_hole = self.hole[ny, nx]
                cand = np.where(from_hole[:, None], grid[ny, nx] - [jump * dy, jump * dx], -1)
                self._try(target, best_dist, cand)
        radius = max(h, w)
        while radius >= 1:
            self._try(target, best_dist, self.best + self.rng.integers(-radius, radius + 1, self.best.shape))
            radius //= 2
