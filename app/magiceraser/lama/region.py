"""Run LaMa's decoder only around the mask: its output outside the mask is thrown away anyway.

After the last FFC block (whose Fourier units see the whole window) the generator is local:
transposed convs, BatchNorm, ReLU and the 7x7 head, at 1/8, 1/4, 1/2 and full resolution. An output
pixel of those layers depends only on the feature cells near it, so the decoder runs on the cells
around the mask's bounding box plus a margin. The margin covers what the crop's own edges disturb
(a padded conv or a transposed conv at a cut edge sees the cut, not the image); where the crop meets
the image's real edge the padding is the same as in the full pass. For one object in a crop-strategy
window (its box + 128 px on each side) the decoder computes about a quarter of the window.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from .weights.spec import Layer

#: Layers that are pointwise: they neither move nor widen what a cut edge disturbs.
POINTWISE = {"bn", "relu", "act"}


@dataclass(frozen=True)
class Box:
    """Rows ``top:bottom`` and columns ``left:right`` of an image or a feature grid."""

    top: int
    bottom: int
    left: int
    right: int

    def scaled(self, factor: int) -> Box:
        return Box(self.top * factor, self.bottom * factor, self.left * factor, self.right * factor)


@dataclass(frozen=True)
class LocalDecoder:
    """The local tail of a layer plan: where it starts, how much it upsamples, how far a cut edge reaches."""

    start: int  # index of the tail's first layer in the plan
    scale: int  # output pixels per feature cell at ``start``
    reach: int  # output pixels next to a cut edge that the cut may change

    def cells(self, box: Box, grid_h: int, grid_w: int) -> Box:
        """The feature cells the tail needs for the output pixels in ``box`` (clipped to the grid)."""
        margin = math.ceil(self.reach / self.scale)
        return Box(max(0, box.top // self.scale - margin), min(grid_h, -(-box.bottom // self.scale) + margin),
                   max(0, box.left // self.scale - margin), min(grid_w, -(-box.right // self.scale) + margin))


def local_decoder(plan: Sequence[Layer], paddings: dict[int, int]) -> LocalDecoder | None:
    """The tail after the plan's last ``concat`` when every layer in it is local and keeps its grid
    aligned (transposed convs of stride 2, 'same' convs, pointwise layers); None otherwise.
    ``paddings``: the padding folded into each conv (by plan index)."""
    concat = [index for index, layer in enumerate(plan) if layer.kind == "concat"]
    if not concat:
        return None
    start, scale, reach = concat[-1] + 1, 1, 0
    for index in range(start, len(plan)):
        layer = plan[index]
        if layer.kind == "up":
            # ConvTranspose2d(k, stride 2, padding (k-1)/2, output_padding 1) doubles the grid; at a cut's
            # far edge its last (k-1)/2 outputs miss the inputs past the cut
            scale, reach = scale * 2, 2 * reach + (layer.size - 1) // 2
        elif layer.kind == "conv" and 2 * paddings.get(index, 0) + 1 == layer.size:
            reach += paddings[index]
        elif layer.kind not in POINTWISE and layer.kind != "pad":
            return None
    return LocalDecoder(start, scale, reach)


def mask_box(mask: torch.Tensor) -> Box | None:
    """The bounding box of the nonzero pixels of an (N, 1, H, W) mask (all images of the batch)."""
    rows = mask.flatten(0, 1).amax(dim=(0, 2)).nonzero()
    cols = mask.flatten(0, 1).amax(dim=(0, 1)).nonzero()
    if rows.numel() == 0:
        return None
    return Box(int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1)
