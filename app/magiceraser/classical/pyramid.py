"""Half-size copies of a window and its hole, shared by the harmonic and the exemplar fills."""

from __future__ import annotations

import numpy as np


def block_sums(a: np.ndarray) -> np.ndarray:
    """Sums over 2x2 blocks (even height and width)."""
    return a.reshape(a.shape[0] // 2, 2, a.shape[1] // 2, 2, *a.shape[2:]).sum(axis=(1, 3))


def _padded(hole: np.ndarray) -> tuple[tuple[int, int], tuple[int, int]]:
    return (0, hole.shape[0] % 2), (0, hole.shape[1] % 2)


def downsample(image: np.ndarray, hole: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Half size: mean of the known pixels of each 2x2 block; a block with none is a hole."""
    pad = _padded(hole)
    known = np.pad(~hole, pad).astype(np.float32)
    values = np.pad(image, pad + ((0, 0),)) * known[..., None]
    weight = block_sums(known)
    small = block_sums(values) / np.maximum(weight, 1)[..., None]
    return small.astype(np.float32), weight == 0


def halve(image: np.ndarray, hole: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Half size for patch search: a block with any hole pixel is a hole, so coarse sources stay fully known."""
    small, _ = downsample(image, hole)
    return small, block_sums(np.pad(hole, _padded(hole))) > 0


def levels(image: np.ndarray, hole: np.ndarray, span_limit: int, min_side: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Fine to coarse, halving until the hole's bounding box fits ``span_limit`` or the window gets
    shorter than ``min_side`` on a side."""
    out = [(image, hole)]
    rows, cols = np.nonzero(hole.any(axis=1))[0], np.nonzero(hole.any(axis=0))[0]
    span = max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1
    while span > span_limit and min(out[-1][1].shape) >= 2 * min_side:
        out.append(halve(*out[-1]))
        span = (span + 1) // 2
    return out
