"""The re-implemented generator reproduces the official LaMa outputs on the tiny reference checkpoint."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from magiceraser.lama.loader import load_generator
from magiceraser.lama.predictor import generator_predictor, inpaint_float, inpaint_uint8
from magiceraser.lama.tiling import Tiling


@pytest.fixture(scope="module")
def golden(lama_reference):
    return dict(np.load(lama_reference / "golden.npz"))


@pytest.fixture(scope="module")
def photo(lama_reference):
    rgb = np.asarray(Image.open(lama_reference / "image.png").convert("RGB"))
    mask = np.asarray(Image.open(lama_reference / "mask.png").convert("L"))
    return rgb, mask


def test_generator_output_matches_golden(lama_reference, golden):
    model = load_generator(lama_reference / "tiny-lama")
    with torch.inference_mode():
        out = model(torch.from_numpy(golden["padded_input"])).numpy()
    np.testing.assert_allclose(out, golden["generator_output"], atol=1e-5, rtol=0)


def test_pipeline_matches_golden_result(lama_reference, golden, photo):
    rgb, mask = photo
    predict = generator_predictor(load_generator(lama_reference / "tiny-lama"))
    np.testing.assert_allclose(inpaint_float(predict, rgb, mask), golden["result_float"], atol=1e-5, rtol=0)
    result = inpaint_uint8(predict, rgb, mask)
    assert np.abs(result.astype(int) - golden["result_uint8"]).max() <= 1
    keep = mask == 0
    assert np.array_equal(result[keep], rgb[keep])


@pytest.mark.parametrize("winograd", [False, True], ids=["im2col", "winograd"])
def test_tiled_without_onednn_matches_golden(lama_reference, golden, monkeypatch, winograd):
    """Tiny bands force every spatial conv through the banded path, as on riscv64 torch; the engine's
    default there also runs the 3x3 convs through Winograd."""
    monkeypatch.setattr(torch.backends.mkldnn, "enabled", False)
    model = load_generator(lama_reference / "tiny-lama", tiling=Tiling(budget=4096, winograd=winograd))
    with torch.inference_mode():
        out = model(torch.from_numpy(golden["padded_input"])).numpy()
    np.testing.assert_allclose(out, golden["generator_output"], atol=1e-5, rtol=0)


@pytest.mark.parametrize("shape", [(1, 1), (8, 8), (9, 13), (17, 3)])
def test_tiny_images_are_padded_enough_for_the_network(lama_reference, shape):
    predict = generator_predictor(load_generator(lama_reference / "tiny-lama"))
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, shape + (3,), dtype=np.uint8)
    mask = np.zeros(shape, bool)
    mask[0, 0] = True
    out = inpaint_uint8(predict, rgb, mask)
    assert out.shape == rgb.shape and np.array_equal(out[~mask], rgb[~mask])
