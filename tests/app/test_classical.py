"""The classical (no model) engine removes an object from a real photo plausibly, touching nothing else."""

from __future__ import annotations

import json

import numpy as np
import pytest
from blocked_imports import run_without
from PIL import Image
from skimage import data

from magiceraser.classical import ClassicalEngine, harmonic_fill
from magiceraser.engine import load_engine
from magiceraser.patchmatch import box_blur


def _ellipse(shape, center, axes):
    yy, xx = np.mgrid[:shape[0], :shape[1]]
    return ((xx - center[0]) / axes[0]) ** 2 + ((yy - center[1]) / axes[1]) ** 2 <= 1


@pytest.mark.parametrize("name,center", [("astronaut", (640, 810)), ("coffee", (900, 600)), ("chelsea", (700, 450))])
def test_object_removed_only_under_the_mask_without_a_hole(name, center):
    rgb = np.asarray(Image.fromarray(getattr(data, name)()).convert("RGB").resize((1920, 1080)))
    mask = _ellipse(rgb.shape[:2], center, (100, 75))
    rgb = rgb.copy()
    rgb[mask] = 0  # a black object: any pixel left unfilled would stay black
    out = ClassicalEngine().inpaint(rgb, mask)
    assert out.shape == rgb.shape and out.dtype == np.uint8
    assert np.array_equal(out[~mask], rgb[~mask])
    filled = out[mask].astype(float)
    ring = _ellipse(rgb.shape[:2], center, (108, 83)) & ~mask
    surround = rgb[ring].astype(float)
    assert np.abs(filled.mean(0) - surround.mean(0)).max() < 30  # colours carried in from the border
    assert surround.sum(axis=1).min() > 0 and filled.sum(axis=1).min() > 0  # no black hole left
    assert filled.std(0).max() <= surround.std(0).max() + 1  # smooth: no smear of outliers


def test_fill_is_harmonic_on_a_gradient():
    """A linear ramp is harmonic, so filling a hole in it must give the ramp back."""
    ramp = np.tile(np.linspace(0, 255, 200, dtype=np.float32), (120, 1))[..., None].repeat(3, axis=2)
    hole = _ellipse(ramp.shape[:2], (100, 60), (30, 20))
    filled = harmonic_fill(np.where(hole[..., None], 0, ramp), hole)
    assert np.abs(filled - ramp)[hole].max() < 3


def _detail(rgb):
    """High frequencies: the image minus its 5x5 box blur."""
    return rgb.astype(np.float32) - box_blur(rgb.astype(np.float32), 2)


@pytest.mark.parametrize("name", ["brick", "gravel", "grass"])
def test_fill_carries_the_texture_of_the_surroundings(name):
    """On a textured photo the hole gets texture like its border, not a smooth blur of its colour."""
    rgb = np.asarray(Image.fromarray(getattr(data, name)()).convert("RGB"))
    centre = (256, 256)
    mask = _ellipse(rgb.shape[:2], centre, (100, 75))
    holed = rgb.copy()
    holed[mask] = 0
    out = ClassicalEngine().inpaint(holed, mask)
    assert np.array_equal(out[~mask], rgb[~mask])
    ring = _ellipse(rgb.shape[:2], centre, (116, 91)) & ~_ellipse(rgb.shape[:2], centre, (104, 79))
    assert _detail(out)[mask].std() >= 0.5 * _detail(out)[ring].std()
    assert np.abs(out[mask].mean(0) - out[ring].mean(0)).max() < 12


@pytest.mark.parametrize("shape,hole", [
    ((512, 512), np.s_[:90, :120]),  # touches two image borders
    ((512, 512), np.s_[:, 200:260]),  # crosses the whole image
    ((512, 512), np.s_[300:301, 300:301]),  # one pixel
    ((20, 20), np.s_[1:, :]),  # all but one row of the window
    ((5, 5), np.s_[2:3, 2:3]),  # window smaller than a patch
])
def test_awkward_holes_are_filled_deterministically_inside_the_mask(shape, hole):
    rgb = np.ascontiguousarray(np.asarray(Image.fromarray(data.gravel()).convert("RGB"))[:shape[0], :shape[1]])
    mask = np.zeros(shape, bool)
    mask[hole] = True
    holed = rgb.copy()
    holed[mask] = 0
    out = ClassicalEngine().inpaint(holed, mask)
    assert np.array_equal(out, ClassicalEngine().inpaint(holed, mask))
    assert np.array_equal(out[~mask], rgb[~mask])
    rows, cols = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
    near = np.zeros_like(mask)
    near[max(rows[0] - 16, 0):rows[-1] + 17, max(cols[0] - 16, 0):cols[-1] + 17] = True
    around = rgb[near & ~mask].astype(float)
    assert np.abs(out[mask].mean() - around.mean()) < 2 * around.std() + 10  # colours from nearby
    assert out[mask].sum(axis=1).min() > 0


def test_without_a_model_the_classical_engine_says_how_to_install_lama(tmp_path, monkeypatch):
    monkeypatch.setenv("MAGICERASER_HOME", str(tmp_path))
    monkeypatch.delenv("MAGICERASER_MODEL", raising=False)
    engine = load_engine(None)
    info = engine.info()
    assert engine.name == "classical" == info["engine"]
    assert info["model_path"] is None and "invoke fetch-model" in info["model_missing_hint"]
    assert set(info) >= {"engine", "model_path", "model_digest", "model_missing_hint", "torch_version",
                         "threads", "mkldnn", "pixels_per_second"}


def test_without_torch_a_lama_model_gets_the_classical_engine_and_a_hint(tiny_model):
    code = ("import json\nfrom magiceraser.engine import load_engine\n"
            "print(json.dumps(load_engine(sys.argv[1]).info()))\n")
    proc = run_without(("torch",), code, str(tiny_model))
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["engine"] == "classical" and info["model_path"] is None
    assert f"torch is not installed, so the LaMa model {tiny_model} cannot run" in info["model_missing_hint"]
