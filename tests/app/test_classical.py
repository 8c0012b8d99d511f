"""The classical (no model) engine removes an object from a real photo plausibly, touching nothing else."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from skimage import data

from magiceraser.classical import ClassicalEngine, harmonic_fill
from magiceraser.engine import load_engine


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


def test_without_a_model_the_classical_engine_says_how_to_install_lama(tmp_path, monkeypatch):
    monkeypatch.setenv("MAGICERASER_HOME", str(tmp_path))
    monkeypatch.delenv("MAGICERASER_MODEL", raising=False)
    engine = load_engine(None)
    info = engine.info()
    assert engine.name == "classical" == info["engine"]
    assert info["model_path"] is None and "invoke fetch-model" in info["model_missing_hint"]
    assert set(info) >= {"engine", "model_path", "model_digest", "model_missing_hint", "torch_version",
                         "threads", "mkldnn", "pixels_per_second"}
