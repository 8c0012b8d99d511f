"""Nearest known patch for every patch that overlaps the hole (PatchMatch, vectorised in numpy).

Patches are compared through a short descriptor (local means of every channel, texture channels
included) so that each candidate costs a gather of a few numbers instead of a whole patch. Sources
are centres whose patch lies entirely in known pixels of the window, so copied texture never
contains hole values.
"""

from __future__ import annotations

import numpy as np

RADIUS = 3  # 7x7 patches: big enough for texture statistics, small enough for narrow borders
JUMPS = (8, 4, 2, 1)
DIRECTIONS = ((0, 1), (0, -1), (1, 0), (-1, 0))
GUIDE_WEIGHT = 3.0  # the guide's patch mean against the nine local means of the descriptor


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


def touching(hole: np.ndarray, radius: int = RADIUS) -> np.ndarray:
    """Pixels whose (2r+1)^2 patch contains at least one hole pixel."""
    return box_blur(hole.astype(np.float32), radius) > 0


def source_centres(hole: np.ndarray) -> np.ndarray:
    """Pixels whose whole patch is known and inside the window."""
    size = 2 * RADIUS + 1
    valid = np.zeros_like(hole)
    h, w = hole.shape
    if h < size or w < size:
        return valid
    inner = np.s_[RADIUS:h - RADIUS, RADIUS:w - RADIUS]
    valid[inner] = ~touching(hole)[inner]
    return valid


def describe(smooth: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """(N, 9 * channels): a patch's 3x3 means (``smooth``) on a stride-2 3x3 grid, coordinates clamped to the window.

    Nine local means describe a 7x7 patch well enough to rank candidates and need no matrix
    product, so no BLAS thread pool is woken (it stalls badly on a busy machine)."""
    h, w = smooth.shape[:2]
    steps = range(1 - RADIUS, RADIUS, 2)
    return np.concatenate([smooth[np.clip(ys + dy, 0, h - 1), np.clip(xs + dx, 0, w - 1)]
                           for dy in steps for dx in steps], axis=1)


def describe_all(smooth: np.ndarray) -> np.ndarray:
    """(h, w, 9 * channels): ``describe`` at every pixel, by slicing instead of gathering."""
    h, w = smooth.shape[:2]
    pad = RADIUS - 1
    padded = np.pad(smooth, ((pad, pad), (pad, pad), (0, 0)), mode="edge")
    steps = range(0, 2 * pad + 1, 2)
    return np.concatenate([padded[dy:dy + h, dx:dx + w] for dy in steps for dx in steps], axis=2)


class Field:
    """Source centre for every target centre (patch overlapping the hole) of one level.

    Kept across EM iterations: each ``improve`` re-ranks the current sources against the new
    estimate, then tries its neighbours' sources (propagation) and random ones (search). A
    ``guide`` (the coarse structure laid out before EM) adds the distance between a source's own
    patch mean and the guide's mean at the target, so iterations cannot drift away from it."""

    def __init__(self, image: np.ndarray, hole: np.ndarray, valid: np.ndarray, rng: np.random.Generator,
                 guess: np.ndarray | None = None, guide: np.ndarray | None = None) -> None:
        self.hole, self.valid, self.rng = hole, valid, rng
        self.targets = self.targets_of(hole)
        self.ys, self.xs = np.nonzero(self.targets)
        self.top = max(int(self.ys.min()) - RADIUS - 1, 0)
        self.left = max(int(self.xs.min()) - RADIUS - 1, 0)
        self.crop = np.s_[self.top:int(self.ys.max()) + RADIUS + 2, self.left:int(self.xs.max()) + RADIUS + 2]
        vy, vx = np.nonzero(valid)
        grid = [describe_all(box_blur(image, 1))]
        self.guide = np.zeros((self.ys.size, 0), np.float32)
        if guide is not None:
            grid.append(GUIDE_WEIGHT * box_blur(image, RADIUS))
            self.guide = GUIDE_WEIGHT * box_blur(guide, RADIUS)[self.ys, self.xs]
        self.descriptors = np.concatenate(grid, axis=2).reshape(valid.size, -1)
        self.sources = np.stack([vy, vx], axis=1)
        self.best = self._random(self.ys.size) if guess is None else guess
        bad = ~self._usable(self.best)
        self.best[bad] = self._random(int(bad.sum()))
        self.cost = np.zeros(self.ys.size, np.float32)

    @staticmethod
    def targets_of(hole: np.ndarray) -> np.ndarray:
        """Centres whose patch overlaps the hole: the patches that vote for hole pixels."""
        return touching(hole)

    def _random(self, count: int) -> np.ndarray:
        return self.sources[self.rng.integers(0, len(self.sources), count)]

    def _flat(self, cand: np.ndarray) -> np.ndarray:
        """Flat index of each candidate source centre, -1 where it is not one."""
        h, w = self.hole.shape
        inside = (cand[:, 0] >= 0) & (cand[:, 0] < h) & (cand[:, 1] >= 0) & (cand[:, 1] < w)
        flat = np.where(inside, cand[:, 0] * w + cand[:, 1], 0)
        return np.where(inside & self.valid.ravel()[flat], flat, -1)

    def _usable(self, cand: np.ndarray) -> np.ndarray:
        return self._flat(cand) >= 0

    def _distance(self, target: np.ndarray, cand: np.ndarray) -> np.ndarray:
        flat = self._flat(cand)
        found = np.take(self.descriptors, np.maximum(flat, 0), axis=0)
        found -= target
        dist = np.einsum("ij,ij->i", found, found)
        return np.where(flat >= 0, dist, np.inf).astype(np.float32)

    def _try(self, target: np.ndarray, cand: np.ndarray) -> None:
        dist = self._distance(target, cand)
        better = dist < self.cost
        self.best[better], self.cost[better] = cand[better], dist[better]

    def improve(self, estimate: np.ndarray) -> None:
        """One PatchMatch pass against the current estimate of the hole."""
        smooth = box_blur(estimate[self.crop], 1)  # only the patches around the hole change
        target = np.concatenate([describe(smooth, self.ys - self.top, self.xs - self.left), self.guide], axis=1)
        self.cost = self._distance(target, self.best)
        h, w = self.hole.shape
        grid = np.zeros((h, w, 2), np.int64)
        for jump in JUMPS:
            grid[self.ys, self.xs] = self.best
            for dy, dx in DIRECTIONS:
                ny, nx = self.ys + jump * dy, self.xs + jump * dx
                inside = (ny >= 0) & (ny < h) & (nx >= 0) & (nx < w)
                ny, nx = np.where(inside, ny, self.ys), np.where(inside, nx, self.xs)
                cand = np.where(self.targets[ny, nx][:, None], grid[ny, nx] - [jump * dy, jump * dx], -1)
                self._try(target, cand)
        radius = max(h, w)
        while radius >= 1:
            self._try(target, self.best + self.rng.integers(-radius, radius + 1, self.best.shape))
            radius //= 2
