"""First guess for the coarsest level: the hole filled from its border inwards, structure first.

Each round takes the front (hole pixels next to known ones), ranks it by Criminisi's priority -
confidence times how strongly an edge (isophote) runs into the hole there - and fills the better
half, each pixel from the centre of the known patch that best matches its known surroundings. So
edges that cross the border advance into the hole ahead of flat areas and keep their direction."""

from __future__ import annotations

import numpy as np

from .patchmatch import RADIUS, box_blur

MAX_SOURCES = 2048  # candidate patches per round; more are sampled on a regular stride
CHUNK = 1 << 21  # distances computed at once
KNOWN_SHARE = 0.5  # a known pixel is a source when at least this share of its patch is known
FRONT_SHARE = 0.5  # the share of the front, by priority, filled each round
FLAT = 1e-3  # data term of a front pixel with no edge, so flat areas still fill in


def _patches(padded: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """(N, (2r+1)^2, ...) patches around (ys, xs) of an array padded by RADIUS on each side."""
    dy, dx = np.mgrid[:2 * RADIUS + 1, :2 * RADIUS + 1]
    return padded[ys[:, None] + dy.ravel(), xs[:, None] + dx.ravel()]


def _front(unknown: np.ndarray) -> np.ndarray:
    padded = np.pad(~unknown, 1)
    near = padded[:-2, 1:-1] | padded[2:, 1:-1] | padded[1:-1, :-2] | padded[1:-1, 2:]
    return unknown & near


def _priority(filled: np.ndarray, unknown: np.ndarray, support: np.ndarray) -> np.ndarray:
    """Criminisi's priority at every pixel: ``support`` (mean confidence over the patch) x data term."""
    gray = filled.mean(axis=2)
    known = ~unknown
    gy = np.zeros_like(gray)
    gx = np.zeros_like(gray)
    gy[:-1] = np.where(known[:-1] & known[1:], gray[1:] - gray[:-1], 0)
    gx[:, :-1] = np.where(known[:, :-1] & known[:, 1:], gray[:, 1:] - gray[:, :-1], 0)
    gy, gx = box_blur(gy, 1), box_blur(gx, 1)
    soft = box_blur(unknown.astype(np.float32), 1)
    ny, nx = np.gradient(soft)
    norm = np.maximum(np.hypot(ny, nx), 1e-6)
    data = np.abs(-gy * nx + gx * ny) / norm / 255.0
    return support * (data + FLAT)


def _best_sources(targets: np.ndarray, known: np.ndarray, sources: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """Index of the source patch nearest to each target, compared where both patches are known.

    Mean over the jointly known pixels of (t - s)^2; expanded as t^2 - 2 t s + s^2, each term is a
    product of a target table and a source table, so all distances come from two einsum calls (no
    BLAS threads). Pairs that share less than a quarter of the patch do not count."""
    count = len(targets)
    query = np.concatenate([known * (targets ** 2).sum(axis=2), (-2 * known[..., None] * targets).reshape(count, -1),
                            known], axis=1)
    table = np.concatenate([seen, (seen[..., None] * sources).reshape(len(sources), -1),
                            seen * (sources ** 2).sum(axis=2)], axis=1)
    found = np.empty(count, np.int64)
    step = max(1, CHUNK // len(sources))
    for start in range(0, count, step):
        shared = np.einsum("ik,jk->ij", known[start:start + step], seen)
        dist = np.einsum("ik,jk->ij", query[start:start + step], table) / np.maximum(shared, 1)
        found[start:start + step] = np.where(shared >= seen.shape[1] / 4, dist, np.inf).argmin(axis=1)
    return found


def onion_fill(image: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """``image`` with the hole filled front by front, each pixel from the centre of a known pixel's patch.
    The window must hold at least one fully known patch (the caller checks).

    Any known pixel whose patch is at least half known is a source, so structures only a few pixels
    wide along the border (too thin for a fully known patch at this scale) can still be continued."""
    filled = image.copy()
    unknown = hole.copy()
    confidence = (~hole).astype(np.float32)
    pad = ((RADIUS, RADIUS), (RADIUS, RADIUS))
    known_share = box_blur(np.pad(~hole, pad).astype(np.float32), RADIUS)[RADIUS:-RADIUS, RADIUS:-RADIUS]
    vy, vx = np.nonzero(~hole & (known_share >= KNOWN_SHARE))
    pick = np.linspace(0, len(vy) - 1, min(len(vy), MAX_SOURCES)).astype(np.int64)
    vy, vx = vy[pick], vx[pick]
    sources = _patches(np.pad(image, pad + ((0, 0),)), vy, vx)
    seen = _patches(np.pad(~hole, pad), vy, vx).astype(np.float32)
    while unknown.any():
        support = box_blur(confidence, RADIUS)
        priority = _priority(filled, unknown, support)
        fy, fx = np.nonzero(_front(unknown))
        rank = priority[fy, fx]
        chosen = rank >= np.quantile(rank, 1 - FRONT_SHARE)
        fy, fx = fy[chosen], fx[chosen]
        targets = _patches(np.pad(filled, pad + ((0, 0),)), fy, fx)
        known = _patches(np.pad(~unknown, pad), fy, fx).astype(np.float32)
        best = _best_sources(targets, known, sources, seen)
        filled[fy, fx] = image[vy[best], vx[best]]
        confidence[fy, fx] = support[fy, fx]
        unknown[fy, fx] = False
    return filled
