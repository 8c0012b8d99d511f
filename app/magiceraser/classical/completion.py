"""Exemplar completion of a window's hole, coarse to fine (Wexler, Simakov, Barnes; Newson et al.).

At the coarsest level the hole is only a few patches wide, so an onion-peel fill that lets edges
advance first (onionpeel) lays out the structure. Every level then alternates PatchMatch search
(patchmatch) and voting (patchvote): each patch overlapping the hole finds its best known match in
the current estimate, and the overlapping matches are averaged into the next estimate. The field
found at one level, doubled, seeds the next finer one, so structure found coarse is kept and only
detail is added. Sources are patches of known pixels of the same window; a fixed seed makes the
result the same for the same input."""

from __future__ import annotations

import numpy as np

from . import pyramid
from .onionpeel import onion_fill
from .patchmatch import RADIUS, Field, source_centres
from .patchvote import PERCENTILE, vote
from .texture import with_texture

COARSE_SPAN = 32  # the coarsest level's hole is at most this many pixels across
MIN_SIDE = 4 * (2 * RADIUS + 1)  # no level shorter than four patches
COARSE_ITERATIONS = 4
FINE_ITERATIONS = 1
FINAL_PERCENTILE = 0.01  # the last vote keeps only the best-matching copies: texture is copied, not averaged


def _upsample_field(field: Field, hole: np.ndarray) -> np.ndarray:
    """Guess for the finer level: each fine target takes its coarse parent's source, doubled."""
    grid = np.full((*field.hole.shape, 2), -1, np.int64)
    grid[field.ys, field.xs] = field.best
    ys, xs = np.nonzero(Field.targets_of(hole))
    parent = grid[ys // 2, xs // 2]
    return np.where(parent >= 0, 2 * parent + np.stack([ys % 2, xs % 2], axis=1), -1)


def _upsample_guide(guide: np.ndarray, image: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """The coarse guide at the finer level's size, inside the hole; the known pixels elsewhere."""
    up = guide.repeat(2, axis=0).repeat(2, axis=1)[:hole.shape[0], :hole.shape[1]]
    return np.where(hole[..., None], up, image)


def exemplar_fill(image: np.ndarray, hole: np.ndarray) -> np.ndarray | None:
    """(h,w,c) float32 with ``hole`` filled from known patches; None when no patch is fully known."""
    rng = np.random.default_rng(0)
    stack = pyramid.levels(with_texture(image, hole), hole, COARSE_SPAN, MIN_SIDE)
    field: Field | None = None
    estimate = guide = None
    for depth in reversed(range(len(stack))):
        level_image, level_hole = stack[depth]
        valid = source_centres(level_hole)
        if not valid.any():
            field = None
            continue
        if field is None or guide is None:
            guide = onion_fill(level_image, level_hole)
            field = Field(level_image, level_hole, valid, rng, guide=guide)
            field.improve(guide)
        else:
            guide = _upsample_guide(guide, level_image, level_hole)
            field = Field(level_image, level_hole, valid, rng, _upsample_field(field, level_hole), guide)
        for _ in range(FINE_ITERATIONS if depth == 0 else COARSE_ITERATIONS):
            estimate = vote(level_image, field)
            field.improve(estimate)
        estimate = vote(level_image, field, FINAL_PERCENTILE if depth == 0 else PERCENTILE)
    return estimate[..., :image.shape[2]] if field is not None and estimate is not None else None
