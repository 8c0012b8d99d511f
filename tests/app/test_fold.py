"""BatchNorm folded into the convs at load time: same outputs as the unfolded generator within float32
rounding, on the reference checkpoint and on big-lama with trained-looking BN statistics.

Tolerance: 1e-5 max abs difference on generator outputs in [0, 1], the same bound the golden tests
use (observed: 2.6e-6 on the tiny checkpoint, under 1e-6 on big-lama). A fold that dropped the
shift, scaled the wrong axis or skipped a branch moves outputs by 1e-2 or more.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from lama_samples import trained_looking_big_lama
from PIL import Image

from magiceraser.engine import load_engine
from magiceraser.lama import runner
from magiceraser.lama.ffc import FFCResNetGenerator
from magiceraser.lama.fold import fold_batchnorm
from magiceraser.lama.loader import load_generator
from magiceraser.lama.predictor import generator_predictor, inpaint_uint8, pad_to_modulo
from magiceraser.lama.tiling import Tiling
from magiceraser.strategy import InpaintOptions

TOLERANCE = 1e-5


def _batchnorms(model: torch.nn.Module) -> int:
    return sum(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())


def _forward(model: torch.nn.Module, x: torch.Tensor) -> np.ndarray:
    with torch.inference_mode():
        return model(x).numpy()


@pytest.fixture(scope="module")
def golden(lama_reference):
    return dict(np.load(lama_reference / "golden.npz"))


@pytest.mark.parametrize("winograd", [False, True], ids=["im2col", "winograd"])
def test_folded_reference_checkpoint_matches_unfolded_and_golden(lama_reference, golden, monkeypatch, winograd):
    monkeypatch.setattr(torch.backends.mkldnn, "enabled", False)
    plain = load_generator(lama_reference / "tiny-lama", Tiling(budget=4096, winograd=winograd))
    before = _batchnorms(plain)
    folded = fold_batchnorm(copy.deepcopy(plain))
    # stem + 3 downsampling FFCs: 5; 2 blocks x 2 FFCs x (local, global, spectral squeeze, Fourier unit): 16; 3 up
    assert before == 24 and _batchnorms(folded) == 0
    x = torch.from_numpy(golden["padded_input"])
    out = _forward(folded, x)
    assert np.abs(out - _forward(plain, x)).max() <= TOLERANCE
    assert np.abs(out - golden["generator_output"]).max() <= TOLERANCE


def test_folded_engine_result_matches_golden_uint8(lama_reference, golden):
    rgb = np.asarray(Image.open(lama_reference / "image.png").convert("RGB"))
    mask = np.asarray(Image.open(lama_reference / "mask.png").convert("L"))
    result = inpaint_uint8(generator_predictor(fold_batchnorm(load_generator(lama_reference / "tiny-lama"))), rgb, mask)
    assert np.abs(result.astype(int) - golden["result_uint8"]).max() <= 1
    assert np.array_equal(result[mask == 0], rgb[mask == 0])


def test_the_service_engine_runs_the_folded_generator(lama_reference, golden, monkeypatch, tmp_path):
    monkeypatch.setenv("MAGICERASER_HOME", str(tmp_path))
    folded: list[FFCResNetGenerator] = []
    monkeypatch.setattr(runner, "fold_batchnorm", lambda g: folded.append(fold_batchnorm(g)) or folded[-1])
    engine = load_engine(lama_reference / "tiny-lama", threads=1, warm_up=False)
    assert len(folded) == 1 and _batchnorms(folded[0]) == 0
    rgb = np.asarray(Image.open(lama_reference / "image.png").convert("RGB"))
    mask = np.asarray(Image.open(lama_reference / "mask.png").convert("L")) > 0
    result = engine.inpaint(rgb, mask, InpaintOptions(strategy="original"))
    assert np.abs(result.astype(int) - golden["result_uint8"]).max() <= 1


def test_folded_big_lama_matches_unfolded_on_a_photo(lama_reference, monkeypatch):
    """big-lama widths (up to 512 channels) with BN statistics like a trained model's, on a real photo."""
    monkeypatch.setattr(torch.backends.mkldnn, "enabled", False)
    plain = trained_looking_big_lama(Tiling(winograd=True))
    folded = fold_batchnorm(copy.deepcopy(plain))
    assert _batchnorms(folded) == 0
    rgb = np.asarray(Image.open(lama_reference / "image.png").convert("RGB"))
    mask = np.asarray(Image.open(lama_reference / "mask.png").convert("L")) > 0
    image = pad_to_modulo(rgb.transpose(2, 0, 1).astype(np.float32) / 255)
    hole = pad_to_modulo(mask[None].astype(np.float32))
    x = torch.from_numpy(np.concatenate([image * (1 - hole), hole]))[None]
    unfolded = _forward(plain, x)
    assert unfolded.std() > 1e-3  # not saturated: a wrong fold would show
    assert np.abs(_forward(folded, x) - unfolded).max() <= TOLERANCE


def test_training_mode_is_refused(lama_reference):
    model = load_generator(lama_reference / "tiny-lama").train()
    with pytest.raises(ValueError, match="eval-mode"):
        fold_batchnorm(model)
