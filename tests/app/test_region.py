"""The decoder run around the mask alone gives the full pass's prediction inside the mask's box."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from magiceraser.lama.ffc import FFCResNetGenerator
from magiceraser.lama.loader import load_generator
from magiceraser.lama.region import Box, local_decoder, mask_box
from magiceraser.lama.tiling import Tiling
from magiceraser.lama.weights.config import BIG_LAMA

H, W = 96, 136  # a 12x17 grid at 1/8: boxes near every edge and in the middle


@pytest.fixture(scope="module")
def tiny(lama_reference):
    return load_generator(lama_reference / "tiny-lama", Tiling(winograd=True))


@pytest.fixture(scope="module")
def full_pass(tiny):
    torch.manual_seed(0)
    x = torch.cat([torch.rand(1, 3, H, W), torch.zeros(1, 1, H, W)], dim=1)
    with torch.inference_mode():
        return x, tiny(x)


def _worst_difference(tiny, full_pass, box: Box) -> float:
    x, full = full_pass
    with torch.inference_mode():
        part = tiny(x, needed=box)
    inside = (slice(None), slice(None), slice(box.top, box.bottom), slice(box.left, box.right))
    return float((part[inside] - full[inside]).abs().max())


def test_big_lama_decoder_is_local_with_a_two_cell_margin():
    generator = FFCResNetGenerator(BIG_LAMA)
    decoder = generator.decoder
    assert decoder is not None
    assert generator.plan[decoder.start - 1].kind == "concat"
    assert (decoder.scale, decoder.reach) == (8, 10)  # 3 transposed convs (1, 3, 7), then the 7x7 head
    assert decoder.cells(Box(200, 350, 100, 300), 57, 51) == Box(23, 46, 10, 40)


@pytest.mark.parametrize("box", [Box(40, 56, 60, 80), Box(0, 9, 0, 13), Box(87, 96, 120, 136), Box(1, 95, 3, 4),
                                 Box(0, 96, 0, 136)])
def test_prediction_inside_the_box_is_the_full_pass(tiny, full_pass, box):
    assert _worst_difference(tiny, full_pass, box) < 1e-6


@settings(max_examples=25, deadline=None)
@given(st.integers(0, H - 1), st.integers(1, H), st.integers(0, W - 1), st.integers(1, W))
def test_any_box_gets_the_full_pass_prediction(tiny, full_pass, top, height, left, width):
    box = Box(top, min(H, top + height), left, min(W, left + width))
    assert _worst_difference(tiny, full_pass, box) < 1e-6


def test_a_margin_short_of_the_reach_changes_the_prediction(tiny, full_pass):
    """The margin is what keeps the crop's edges out of the box: without it the box sees them."""
    decoder = tiny.decoder
    tiny.decoder = dataclasses.replace(decoder, reach=decoder.reach - decoder.scale)  # one cell less
    try:
        assert _worst_difference(tiny, full_pass, Box(40, 56, 60, 80)) > 1e-3
    finally:
        tiny.decoder = decoder


def test_mask_box_bounds_every_masked_pixel():
    mask = torch.zeros(2, 1, 30, 40)
    assert mask_box(mask) is None
    mask[0, 0, 5, 7] = 1
    mask[1, 0, 20, 33] = 1
    assert mask_box(mask) == Box(5, 21, 7, 34)


def test_a_tail_with_a_global_or_shifting_layer_gets_no_region():
    plan = FFCResNetGenerator(BIG_LAMA).plan
    concat = max(i for i, layer in enumerate(plan) if layer.kind == "concat")
    assert local_decoder(plan[:concat + 1] + [plan[concat - 1]] + plan[concat + 1:], {}) is None  # an FFC block
    head = len(plan) - 2
    assert plan[head].kind == "conv"
    assert local_decoder(plan, {head: 0}) is None  # a 7x7 conv without padding would shift the grid
    assert local_decoder([layer for layer in plan if layer.kind != "concat"], {}) is None
